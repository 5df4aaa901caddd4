// Test support for the ffs driver (see image_support.hpp).
#include "image_support.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <ctime>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>

#include "fs/ffs/register.hpp"
#include "fs/ffs/superblock.hpp"

namespace uk::ffs::test {

namespace {

void make_files(const fs::path& root, const TreeOptions& o) {
    std::uint32_t seed = 1;
    fs::create_directory(root / "sizes");
    // Every fragment boundary up to three blocks, and one byte either side of it.
    for (std::uint64_t edge = 0; edge <= 3 * std::uint64_t{o.bsize}; edge += o.fsize) {
        for (const std::uint64_t s : {edge - 1, edge, edge + 1}) {
            if (edge == 0 && s != 0 && s != 1)
                continue;
            const fs::path p = root / "sizes" / fmt::format("size_{}", s);
            if (!fs::exists(p))
                write_host_file(p, pattern(static_cast<std::size_t>(s), seed++));
        }
    }
    write_host_file(root / "big", pattern((std::size_t{5} << 20) + 123, seed++));
    write_host_file(root / "hard_a", pattern(777, seed++));
    fs::create_directories(root / "d1/d2/d3/d4/d5/d6/d7/d8");
    write_host_file(root / "d1/d2/d3/d4/d5/d6/d7/d8/deep", pattern(10, seed++));
    fs::create_hard_link(root / "hard_a", root / "d1/hard_b");
    fs::create_hard_link(root / "hard_a", root / "d1/d2/hard_c");
    fs::create_directory(root / "emptydir");
    write_host_file(root / "empty", {});
    fs::create_directory(root / "many");
    for (int i = 0; i < o.many_entries; ++i)
        write_host_file(root / "many" / fmt::format("entry-{:04}-with-a-longer-name", i),
                        i % 100 == 0 ? pattern(static_cast<std::size_t>(i), seed++)
                                     : std::vector<std::byte>{});
    for (int i = 0; i < 40; ++i)
        fs::create_directory(root / "many" / fmt::format("subdir-{}", i));
}

void make_special(const fs::path& root) {
    fs::create_symlink("big", root / "fast_link");
    fs::create_symlink(std::string(59, 'a'), root / "link_59");  // UFS1's longest short link
    fs::create_symlink(std::string(60, 'b'), root / "link_60");
    fs::create_symlink(std::string(119, 'c'), root / "link_119");  // UFS2's longest short link
    fs::create_symlink(std::string(120, 'd'), root / "link_120");
    fs::create_symlink(std::string(100, 's') + "/target/beyond/120/bytes", root / "slow_link");
    fs::create_symlink(std::string(1000, 'L'), root / "long_link");
    fs::create_symlink("../big", root / "d1/up_link");
    uk::test::make_special_nodes(root);
}

std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The model's nodes, by path relative to the model, with their lstat; `detail` marks the ones
// a reader looks at closely (all of a directory of up to 64 entries, else every 16th).
struct ModelNode {
    std::string rel;
    struct stat st {};
    bool detail = true;
};

std::vector<ModelNode> model_nodes(const fs::path& model) {
    std::map<std::string, std::vector<std::string>> by_dir;
    for (const fs::path& p : uk::test::walk_host(model)) {
        const std::string rel = p.lexically_relative(model).string();
        by_dir[p.parent_path().lexically_relative(model).string()].push_back(rel);
    }
    std::vector<ModelNode> out;
    for (auto& [dir, rels] : by_dir) {
        std::sort(rels.begin(), rels.end());
        for (std::size_t i = 0; i < rels.size(); ++i) {
            ModelNode n;
            n.rel = rels[i];
            EXPECT_EQ(::lstat((model / n.rel).c_str(), &n.st), 0) << n.rel;
            n.detail = rels.size() <= 64 || i % 16 == 0;
            out.push_back(std::move(n));
        }
    }
    std::sort(out.begin(), out.end(),
              [](const ModelNode& a, const ModelNode& b) { return a.rel < b.rel; });
    return out;
}

// [start, end) of each run of data in a (sparse) host file.
std::vector<std::pair<std::uint64_t, std::uint64_t>> data_ranges(const fs::path& p) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    const int fd = ::open(p.c_str(), O_RDONLY);
    if (fd < 0)
        return out;
    off_t at = 0;
    for (;;) {
        const off_t data = ::lseek(fd, at, SEEK_DATA);
        if (data < 0)
            break;
        const off_t hole = ::lseek(fd, data, SEEK_HOLE);
        out.emplace_back(static_cast<std::uint64_t>(data), static_cast<std::uint64_t>(hole));
        at = hole;
    }
    ::close(fd);
    return out;
}

// "2021-01-02 03:04:05" (UTC), as istat -z UTC prints a time.
std::string utc(std::time_t t, const char* format) {
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

// ls -l's mode string as TSK prints it: its own type letter, then rwx with s, S, t and T.
std::string tsk_mode(mode_t m) {
    std::string s(1, S_ISREG(m)    ? 'r'
                     : S_ISDIR(m)  ? 'd'
                     : S_ISLNK(m)  ? 'l'
                     : S_ISFIFO(m) ? 'p'
                     : S_ISCHR(m)  ? 'c'
                     : S_ISBLK(m)  ? 'b'
                                   : 's');
    const char* rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i)
        s += (m & (0400 >> i)) ? rwx[i] : '-';
    const auto special = [&](int pos, mode_t bit, char on) {
        if (m & bit)
            s[pos] = s[pos] == '-' ? static_cast<char>(std::toupper(on)) : on;
    };
    special(3, S_ISUID, 's');
    special(6, S_ISGID, 's');
    special(9, S_ISVTX, 't');
    return s;
}

// The value of "key: value" in TSK's output, up to the end of its line (empty if absent).
std::string tsk_field(const std::string& text, const std::string& key) {
    const std::size_t at = text.find("\n" + key);
    if (at == std::string::npos)
        return {};
    const std::size_t from = at + 1 + key.size();
    return text.substr(from, text.find('\n', from) - from);
}

void expect_tsk_sees(const fs::path& img, const fs::path& model, const Geometry& g,
                     const ReaderOptions& o) {
    const std::string type = g.ufs2 ? "ufs2" : "ufs1";
    const std::string image = sh_quote(img.string());
    if (have_tool("fsstat")) {
        const std::string stat = capture(fmt::format("fsstat -f {} {}", type, image));
        EXPECT_NE(stat.find(g.ufs2 ? "File System Type: UFS 2" : "File System Type: UFS 1"),
                  std::string::npos)
            << stat;
    }
    // fls -r -p: "r/r 12:\tdir/name", deleted names marked " * ", and TSK's own $OrphanFiles.
    const std::string listing = capture(fmt::format("fls -r -p -f {} {}", type, image));
    std::map<std::string, std::pair<std::string, std::uint64_t>> seen;  // name: type, inode
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
        const std::size_t tab = line.find('\t');
        const std::size_t colon = line.find(':');
        if (tab == std::string::npos || colon == std::string::npos || line.find(" * ") < tab ||
            line.compare(tab + 1, 12, "$OrphanFiles") == 0)
            continue;
        const std::size_t num = line.find_first_of("0123456789", 3);
        seen[line.substr(tab + 1)] = {line.substr(0, 3),
                                      std::stoull(line.substr(num, colon - num))};
    }
    const std::vector<ModelNode> nodes = model_nodes(model);
    std::set<std::string> want, got;
    for (const ModelNode& n : nodes)
        want.insert(n.rel);
    for (const auto& [name, what] : seen)
        got.insert(name);
    ASSERT_EQ(want, got) << listing.substr(0, 20000);
    // ils -a: every allocated inode's owners, mtime, mode, link count and size, in one run
    // ("st_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_nlink|
    // st_size", the mode's permission bits in octal).
    std::map<std::uint64_t, std::vector<std::string>> inodes;
    std::istringstream ils(capture(fmt::format("ils -a -f {} {}", type, image)));
    for (std::string line; std::getline(ils, line);) {
        std::vector<std::string> f;
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, '|');)
            f.push_back(x);
        if (f.size() == 11 && !f[0].empty() && std::isdigit(static_cast<unsigned char>(f[0][0])))
            inodes[std::stoull(f[0])] = f;
    }
    std::map<char, int> istats;  // istat runs per type: a few of each suffice
    for (const ModelNode& n : nodes) {
        const auto& [ftype, ino] = seen[n.rel];
        const std::string letter = tsk_mode(n.st.st_mode).substr(0, 1);
        EXPECT_EQ(ftype, letter + "/" + letter) << n.rel;
        const auto it = inodes.find(ino);
        if (it == inodes.end()) {
            ADD_FAILURE() << n.rel << ": inode " << ino << " not in ils -a";
            continue;
        }
        const std::vector<std::string>& f = it->second;
        EXPECT_EQ(f[2], std::to_string(n.st.st_uid)) << n.rel << ": uid";
        EXPECT_EQ(f[3], std::to_string(n.st.st_gid)) << n.rel << ": gid";
        EXPECT_EQ(f[4], std::to_string(n.st.st_mtim.tv_sec)) << n.rel << ": mtime";
        EXPECT_EQ(f[8], fmt::format("{:o}", n.st.st_mode & 07777)) << n.rel << ": mode";
        EXPECT_EQ(f[9], std::to_string(n.st.st_nlink)) << n.rel << ": links";
        if (!S_ISDIR(n.st.st_mode)) {
            EXPECT_EQ(f[10], std::to_string(n.st.st_size)) << n.rel << ": size";
        }
        const auto size = static_cast<std::uint64_t>(n.st.st_size);
        // istat maps a file's every block first: not for a big sparse one.
        if (istats[letter[0]]++ < 3 && size <= o.stream_limit) {
            const std::string info =
                capture(fmt::format("istat -z UTC -f {} {} {}", type, image, ino));
            const std::string where = n.rel + "\n" + info.substr(0, 2000);
            EXPECT_EQ(tsk_field(info, "uid / gid: "),
                      fmt::format("{} / {}", n.st.st_uid, n.st.st_gid))
                << where;
            EXPECT_EQ(tsk_field(info, "mode: "), tsk_mode(n.st.st_mode)) << where;
            EXPECT_EQ(tsk_field(info, "num of links: "), std::to_string(n.st.st_nlink)) << where;
            // "2021-01-02 03:04:05 (UTC)", or with ".nnnnnnnnn" where TSK shows nanoseconds.
            const std::string mtime = tsk_field(info, "File Modified:\t");
            EXPECT_EQ(mtime.substr(0, 19), utc(n.st.st_mtim.tv_sec, "%Y-%m-%d %H:%M:%S")) << where;
            if (mtime.size() > 19 && mtime[19] == '.') {
                EXPECT_EQ(std::stol(mtime.substr(20, 9)), n.st.st_mtim.tv_nsec) << where;
            }
            if (!S_ISDIR(n.st.st_mode)) {
                EXPECT_EQ(tsk_field(info, "size: "), std::to_string(n.st.st_size)) << where;
            }
        }
        if (!n.detail)
            continue;
        const fs::path host = model / n.rel;
        const std::string icat = fmt::format("icat -f {} {} {}", type, image, ino);
        if (S_ISLNK(n.st.st_mode) && size >= g.maxsymlinklen) {
            // A slow symlink: icat reads its target (a fast one's is in the inode, unread).
            EXPECT_EQ(capture(icat), fs::read_symlink(host).string()) << n.rel;
        } else if (S_ISREG(n.st.st_mode) && size <= o.stream_limit) {
            EXPECT_EQ(run(fmt::format("{{ {} | cmp -s - {}; }}", icat, sh_quote(host.string()))), 0)
                << n.rel << ": icat's bytes differ";
        } else if (S_ISREG(n.st.st_mode)) {
            // icat, like istat, maps the whole block map before its first byte: minutes for
            // gigabytes of holes. The size, owners and mode are checked above.
            std::cerr << "note: " << n.rel << " (" << size
                      << " bytes) is too big for The Sleuth Kit to read; its bytes are unread\n";
        }
    }
}

// grub-fstest IMG -- ls [-l] DIR: one line of names (directories end in "/"), or per name
// "SIZE|DIR YYYYMMDDhhmmss NAME" (a symlink's size is its target's, and one whose target
// GRUB cannot open is left out).
std::string grub(const fs::path& img, const std::string& args) {
    return capture(fmt::format("grub-fstest {} -- {}", sh_quote(img.string()), args));
}

void expect_grub_sees(const fs::path& img, const fs::path& model, const ReaderOptions& o) {
    const std::vector<ModelNode> nodes = model_nodes(model);
    std::map<std::string, std::vector<const ModelNode*>> by_dir{{"", {}}};
    for (const ModelNode& n : nodes) {
        const std::string parent = fs::path(n.rel).parent_path().string();
        by_dir[parent].push_back(&n);
        if (S_ISDIR(n.st.st_mode))
            by_dir[n.rel];
    }
    const fs::path tmp = img.parent_path() / "reader.expected";
    for (const auto& [dir, children] : by_dir) {
        const std::string path = "/" + dir;
        std::set<std::string> want{"./", "../"}, got;
        for (const ModelNode* n : children)
            want.insert(fs::path(n->rel).filename().string() + (S_ISDIR(n->st.st_mode) ? "/" : ""));
        const std::string names = grub(img, "ls -a " + sh_quote(path));
        std::istringstream words(names);
        for (std::string w; words >> w;)
            got.insert(w);
        std::map<std::string, std::pair<std::string, std::string>> longs;  // name: size, mtime
        std::istringstream lines(grub(img, "ls -a -l " + sh_quote(path)));
        for (std::string line; std::getline(lines, line);) {
            std::istringstream f(line);
            std::string size, mtime, name;
            if (f >> size >> mtime >> name)
                longs[name] = {size, mtime};
        }
        std::vector<std::string> missing, extra;
        std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                            std::back_inserter(missing));
        std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                            std::back_inserter(extra));
        // GRUB 2.06 lists an entry whose d_ino is 0 (how NetBSD's ufs_dirremove frees the
        // first entry of a directory chunk) as inode 0: size 0, mtime 0. Not a name.
        std::erase_if(extra, [&](const std::string& name) {
            const auto it = longs.find(name);
            return it != longs.end() &&
                   it->second == std::pair<std::string, std::string>("0", "19700101000000");
        });
        EXPECT_TRUE(missing.empty() && extra.empty())
            << path << ": GRUB's ls lacks " << fmt::format("{}", fmt::join(missing, " "))
            << "; has more: " << fmt::format("{}", fmt::join(extra, " "));
        for (const ModelNode* n : children) {
            if (S_ISLNK(n->st.st_mode))
                continue;  // ls -l shows what GRUB makes of the target
            const bool is_dir = S_ISDIR(n->st.st_mode);
            const std::string name = fs::path(n->rel).filename().string() + (is_dir ? "/" : "");
            const auto it = longs.find(name);
            if (it == longs.end()) {
                ADD_FAILURE() << n->rel << ": not in GRUB's ls -l of " << path;
                continue;
            }
            EXPECT_EQ(it->second.first, is_dir ? "DIR" : std::to_string(n->st.st_size)) << n->rel;
            EXPECT_EQ(it->second.second, utc(n->st.st_mtim.tv_sec, "%Y%m%d%H%M%S")) << n->rel;
            if (!S_ISREG(n->st.st_mode) || !n->detail)
                continue;
            const fs::path host = model / n->rel;
            const auto size = static_cast<std::uint64_t>(n->st.st_size);
            if (size <= o.stream_limit) {
                EXPECT_EQ(run(fmt::format("grub-fstest {} -- cmp {} {}", sh_quote(img.string()),
                                          sh_quote("/" + n->rel), sh_quote(host.string()))),
                          0)
                    << n->rel << ": GRUB's bytes differ";
                continue;
            }
            // Too big to stream: each run of data with the hole before it (grub-fstest's cmp
            // wants the local file to end where the range does: cat the range instead).
            const int fd = ::open(host.c_str(), O_RDONLY);
            ASSERT_GE(fd, 0) << host;
            for (auto [from, to] : data_ranges(host)) {
                from = from >= 4096 ? from - 4096 : 0;
                std::vector<std::byte> want(to - from);
                ASSERT_EQ(::pread(fd, want.data(), want.size(), static_cast<off_t>(from)),
                          static_cast<ssize_t>(want.size()));
                write_host_file(tmp, want);
                EXPECT_EQ(
                    run(fmt::format("{{ grub-fstest -s {} -n {} {} -- cat {} | cmp -s - {}; }}",
                                    from, to - from, sh_quote(img.string()), sh_quote("/" + n->rel),
                                    sh_quote(tmp.string()))),
                    0)
                    << n->rel << ": GRUB's bytes differ in [" << from << ", " << to << ")";
            }
            ::close(fd);
            fs::remove(tmp);
        }
    }
}

}  // namespace

Reader pick_reader(const fs::path& img, std::string* why) {
    auto dev = io::ImageFile::open(img.string(), true);
    if (!dev)
        return Reader::none;
    auto found = find_superblock(**dev);
    if (!found)
        return Reader::none;
    const bool ufs2 = found->order.u32(found->sb.fs_magic) == ufs2_magic;
    const bool tsk = have_tool("fls") && have_tool("icat") && have_tool("istat");
    if (tsk && (!ufs2 || found->offset == sblock_ufs2))
        return Reader::tsk;
    const bool little = found->order.endian() == std::endian::little;
    if (little && have_tool("grub-fstest"))
        return Reader::grub;
    if (why != nullptr) {
        if (!little && ufs2 && found->offset != sblock_ufs2)
            *why = "The Sleuth Kit looks for a UFS2 superblock at 65536 only, GRUB reads "
                   "little-endian FFS only: none reads a big-endian UFS2 with its superblock at " +
                   std::to_string(found->offset);
        else
            *why = "The Sleuth Kit (package sleuthkit) or grub-fstest (package grub-common) is "
                   "not installed";
    }
    return Reader::none;
}

Reader expect_reader_sees(const fs::path& img, const fs::path& model, const ReaderOptions& o) {
    if (std::getenv("NEG") && fs::exists(model / "a/f511")) {
        run("sh -c 'echo x >> " + (model / "a/f511").string() + "; touch -d @1000000000 " +
            (model / "a/f4097").string() + "; chmod 600 " + (model / "tail").string() +
            "; chown 7:7 " + (model / "tail2").string() + "; touch " +
            (model / "a/extra").string() + "'");
    }
    std::string why;
    const Reader r = pick_reader(img, &why);
    if (r == Reader::none) {
        std::cerr << "note: no independent reader for this image: " << why << "\n";
        return r;
    }
    auto dev = io::ImageFile::open(img.string(), true);
    EXPECT_TRUE(dev);
    auto found = find_superblock(**dev);
    EXPECT_TRUE(found);
    auto g = derive_geometry(*found, (*dev)->size());
    EXPECT_TRUE(g) << g.error().describe();
    if (!g)
        return r;
    if (r == Reader::tsk)
        expect_tsk_sees(img, model, *g, o);
    else
        expect_grub_sees(img, model, o);
    return r;
}

void build_tree(const fs::path& root, const TreeOptions& options) {
    fs::create_directories(root);
    make_files(root, options);
    make_special(root);
    uk::test::stamp_times(root);
}

Result<std::unique_ptr<vfs::Mount>> mount_device(std::shared_ptr<io::BlockDevice> dev,
                                                 std::size_t cache, bool writable) {
    vfs::MountRequest req;
    req.device = std::move(dev);
    req.flags = writable ? 0 : vfs::mnt_rdonly;
    req.cache_budget = cache;
    std::unique_ptr<vfs::FileSystem> fs = UKFS_TRY(mount_ffs(req));
    return vfs::Mount::create(std::move(fs), "ffs", req.flags);
}

Result<std::unique_ptr<vfs::Mount>> mount_image(const fs::path& img, std::size_t cache,
                                                bool writable) {
    std::shared_ptr<io::BlockDevice> dev = UKFS_TRY(io::ImageFile::open(img.string(), !writable));
    return mount_device(std::move(dev), cache, writable);
}

}  // namespace uk::ffs::test
