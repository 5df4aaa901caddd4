// Helpers for the partition tests: temporary images, running the reference tools (sfdisk,
// sgdisk), reading `sfdisk -J`, and writing BSD disklabels by hand (no disklabel(8) on Linux).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/endian.hpp"
#include "io/partition/disklabel.hpp"

namespace part_test {

// A temporary file of `size` bytes (sparse), removed when this goes away.
class TempImage {
public:
    explicit TempImage(std::uint64_t size) {
        char path[] = "/tmp/ukfs-part-XXXXXX.img";
        const int fd = mkstemps(path, 4);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
        close(fd);
        m_path = path;
    }
    ~TempImage() { unlink(m_path.c_str()); }
    TempImage(const TempImage&) = delete;
    TempImage& operator=(const TempImage&) = delete;
    const std::string& path() const { return m_path; }

    void write(std::uint64_t off, const std::vector<std::byte>& bytes) const {
        const int fd = open(m_path.c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(off)),
                  static_cast<ssize_t>(bytes.size()));
        close(fd);
    }
    void resize(std::uint64_t size) const {
        ASSERT_EQ(truncate(m_path.c_str(), static_cast<off_t>(size)), 0);
    }

private:
    std::string m_path;
};

inline bool have_tool(const char* name) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

// Run a shell command; its standard output, and its exit status in *status.
inline std::string run(const std::string& cmd, int* status = nullptr) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) {
        if (status)
            *status = -1;
        return out;
    }
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
        out.append(buf.data(), n);
    const int rc = pclose(p);
    if (status)
        *status = rc;
    return out;
}

// One partition as `sfdisk -J` reports it (sectors of 512 bytes).
struct SfdiskPart {
    std::uint32_t number = 0;
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    std::string name;
    std::string type;
};

// The partitions of `image` according to `sfdisk -J`: each object of "partitions" holds
// "node" (the image's path and the number), "start", "size", and "name" on GPT.
inline std::vector<SfdiskPart> sfdisk_json(const std::string& image) {
    int status = 0;
    const std::string json = run("sfdisk -J '" + image + "' 2>/dev/null", &status);
    EXPECT_EQ(status, 0) << json;
    std::vector<SfdiskPart> parts;
    const std::size_t list = json.find("\"partitions\"");
    if (list == std::string::npos)
        return parts;
    static const std::regex node(R"re("node"\s*:\s*"[^"]*?(\d+)")re");
    static const std::regex start(R"re("start"\s*:\s*(\d+))re");
    static const std::regex size(R"re("size"\s*:\s*(\d+))re");
    static const std::regex name(R"re("name"\s*:\s*"([^"]*)")re");
    static const std::regex type(R"re("type"\s*:\s*"([^"]*)")re");
    for (std::size_t open = json.find('{', list); open != std::string::npos;
         open = json.find('{', open + 1)) {
        const std::size_t close = json.find('}', open);
        const std::string obj = json.substr(open, close - open);
        std::smatch m;
        SfdiskPart p;
        if (std::regex_search(obj, m, node))
            p.number = static_cast<std::uint32_t>(std::stoul(m[1]));
        if (std::regex_search(obj, m, start))
            p.start = std::stoull(m[1]);
        if (std::regex_search(obj, m, size))
            p.size = std::stoull(m[1]);
        if (std::regex_search(obj, m, name))
            p.name = m[1];
        if (std::regex_search(obj, m, type))
            p.type = m[1];
        parts.push_back(p);
    }
    return parts;
}

// A BSD disklabel, written field by field in either byte order (sys/disklabel.h layout).
struct LabelPart {
    std::uint32_t offset = 0;  // sectors
    std::uint32_t size = 0;    // sectors
    std::uint8_t fstype = 7;   // FS_BSDFFS
};

inline std::vector<std::byte> make_disklabel(std::endian e, const std::vector<LabelPart>& parts,
                                             std::uint32_t secsize = 512,
                                             int npartitions = -1) {
    using namespace uk;
    using namespace uk::io;
    const Order ord(e);
    const auto npart = static_cast<std::uint16_t>(npartitions < 0 ? parts.size() : npartitions);
    RawDisklabel raw{};
    ord.set(raw.d_magic, disklabel_magic);
    ord.set(raw.d_magic2, disklabel_magic);
    ord.set(raw.d_secsize, secsize);
    ord.set(raw.d_npartitions, npart);
    ord.set(raw.d_bbsize, std::uint32_t{8192});
    ord.set(raw.d_sbsize, std::uint32_t{8192});
    std::vector<std::byte> out(sizeof raw + parts.size() * sizeof(RawDisklabelPartition));
    std::memcpy(out.data(), &raw, sizeof raw);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        RawDisklabelPartition p{};
        ord.set(p.p_offset, parts[i].offset);
        ord.set(p.p_size, parts[i].size);
        p.p_fstype = parts[i].fstype;
        std::memcpy(out.data() + sizeof raw + i * sizeof p, &p, sizeof p);
    }
    // d_checksum makes the XOR of the words up to d_partitions[npart] zero (dkcksum).
    const std::size_t covered = std::min(out.size(), sizeof raw + npart * sizeof(RawDisklabelPartition));
    std::uint16_t sum = 0;
    for (std::size_t off = 0; off + 2 <= covered; off += 2) {
        Raw16 w;
        std::memcpy(w.bytes, out.data() + off, 2);
        sum ^= ord.u16(w);
    }
    Raw16 ck;
    ord.set(ck, sum);
    std::memcpy(out.data() + offsetof(RawDisklabel, d_checksum), ck.bytes, 2);
    return out;
}

}  // namespace part_test
