// Extended attributes written by the driver, judged by e2fsprogs (ORACLES.md): after the
// changes and an unmount, `e2fsck -fn` must find the image clean, and debugfs' ea_list and
// ea_get must show exactly the attributes the model holds. Shared blocks, the ext_attr feature
// and POSIX ACLs (read from an image mke2fs -d made from a host tree with setfacl, and written)
// each have their own test.
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "image_support.hpp"

namespace uk::ext2fs::test {
namespace {

using Bytes = std::vector<std::byte>;
using Attrs = std::map<std::string, Bytes>;

Bytes bytes(std::string_view s) {
    const auto b = std::as_bytes(std::span(s));
    return {b.begin(), b.end()};
}

Bytes filler(std::size_t n, char c) {
    return bytes(std::string(n, c));
}

std::string hex(const Bytes& b) {
    std::string out;
    for (const std::byte x : b)
        out += fmt::format("{:02x}", std::to_integer<unsigned>(x));
    return out;
}

// What debugfs sees on `path`: every name by ea_list, every value by ea_get -f (raw: ACLs as
// stored).
Attrs debugfs_attrs(const fs::path& img, const fs::path& scratch, const std::string& path) {
    Attrs out;
    std::istringstream lines(
        capture("debugfs -R 'ea_list " + path + "' " + img.string() + " 2>/dev/null"));
    static const std::regex entry(R"(^  (\S+) \((\d+)\).*)");
    std::string line;
    while (std::getline(lines, line)) {
        std::smatch m;
        if (!std::regex_match(line, m, entry))
            continue;
        const fs::path value = scratch / "value";
        fs::remove(value);
        run(fmt::format("debugfs -R 'ea_get -r -f {} {} {}' {} >/dev/null 2>&1", value.string(),
                        path, m[1].str(), img.string()));
        const Bytes v = read_host_file(value);
        EXPECT_EQ(v.size(), std::stoul(m[2].str())) << path << " " << m[1];
        out[m[1].str()] = v;
    }
    return out;
}

std::string file_acl(const fs::path& img, const std::string& path) {
    const std::string out =
        capture("debugfs -R 'stat " + path + "' " + img.string() + " 2>/dev/null");
    std::smatch m;
    static const std::regex acl(R"(File ACL: (\d+))");
    return std::regex_search(out, m, acl) ? m[1].str() : "?";
}

void expect_clean(const fs::path& img) {
    const std::string out = capture("e2fsck -fn " + img.string() + " 2>&1; echo rc=$?");
    EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
}

template <class T>
int error_of(const Result<T>& r) {
    return r ? 0 : r.error().errnum();
}

struct Variant {
    const char* name;
    const char* mkfs;
    bool ibody;  // inodes with room for attributes (256 bytes)
};

const Variant variants[] = {
    {"ext4", "ext4 -b 4096", true},
    {"ext4_no_csum", "ext4 -b 4096 -O ^metadata_csum", true},
    {"ext2_128", "ext2 -b 4096 -I 128", false},
    {"ext4_1k", "ext4 -b 1024", true},
};

class XattrWrite : public ::testing::TestWithParam<Variant> {
protected:
    void SetUp() override {
        if (!have_tool("mke2fs") || !have_tool("e2fsck") || !have_tool("debugfs"))
            GTEST_SKIP() << "e2fsprogs is not installed";
    }

    // The mount's view and the model's must agree, attribute by attribute.
    void expect_same(vfs::Mount& m, const std::string& path) {
        auto names = m.listxattr(path, vfs::Follow::no);
        ASSERT_TRUE(names) << names.error().describe();
        std::vector<std::string> want;
        for (const auto& [n, v] : model[path]) {
            want.push_back(n);
            auto got = m.getxattr(path, n, vfs::Follow::no);
            ASSERT_TRUE(got) << path << " " << n << ": " << got.error().describe();
            EXPECT_EQ(hex(*got), hex(v)) << path << " " << n;
        }
        std::sort(names->begin(), names->end());
        EXPECT_EQ(*names, want) << path;
    }

    void set(vfs::Mount& m, const std::string& path, const std::string& name, const Bytes& v,
             vfs::XattrSet how = vfs::XattrSet::any) {
        auto r = m.setxattr(path, name, v, how, vfs::Follow::no);
        ASSERT_TRUE(r) << path << " " << name << ": " << r.error().describe();
        model[path][name] = v;
    }

    void remove(vfs::Mount& m, const std::string& path, const std::string& name) {
        auto r = m.removexattr(path, name, vfs::Follow::no);
        ASSERT_TRUE(r) << path << " " << name << ": " << r.error().describe();
        model[path].erase(name);
    }

    std::map<std::string, Attrs> model;
};

TEST_P(XattrWrite, SetReplaceRemoveThenE2fsckAndDebugfsAgree) {
    const Variant& v = GetParam();
    TempDir tmp("ext2xattr");
    const fs::path src = tmp.path() / "src", img = tmp.path() / "x.img";
    fs::create_directories(src / "d");
    for (const char* f : {"f", "g", "h"})
        write_host_file(src / f, bytes(std::string("file ") + f + "\n"));
    ASSERT_EQ(make_image(src, img, v.mkfs, "16M"), 0);
    const std::uint32_t block_size =
        std::string(v.mkfs).find("1024") != std::string::npos ? 1024 : 4096;
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        vfs::Mount& mnt = **m;
        // Small values (in the inode when there is room), replaced, refused by the flags.
        set(mnt, "/f", "user.small", bytes("hello"));
        set(mnt, "/f", "user.small", bytes("world!"), vfs::XattrSet::replace);
        EXPECT_EQ(error_of(mnt.setxattr("/f", "user.small", bytes("x"), vfs::XattrSet::create,
                                        vfs::Follow::no)),
                  EEXIST);
        EXPECT_EQ(error_of(mnt.setxattr("/f", "user.none", bytes("x"), vfs::XattrSet::replace,
                                        vfs::Follow::no)),
                  ENODATA);
        EXPECT_EQ(error_of(mnt.removexattr("/f", "user.none", vfs::Follow::no)), ENODATA);
        set(mnt, "/f", "user.empty", {});
        set(mnt, "/f", "security.selinux", bytes(std::string("system_u:object_r:etc_t:s0\0", 27)));
        set(mnt, "/f", "trusted.t", bytes("trusted value"));
        // A large value: the attribute block.
        set(mnt, "/f", "user.big", filler(block_size / 2, 'b'));
        // Many attributes: the inode fills, the rest spills into the block; then some go.
        for (int i = 0; i < 12; ++i)
            set(mnt, "/g", fmt::format("user.m{:02}", i),
                filler(20 + i, static_cast<char>('a' + i)));
        remove(mnt, "/g", "user.m05");
        set(mnt, "/g", "user.m07", filler(5, 'z'));
        remove(mnt, "/g", "user.m00");
        // Values that fit nowhere, names ext4 cannot hold.
        EXPECT_EQ(error_of(mnt.setxattr("/h", "user.huge", filler(block_size + 100, 'h'),
                                        vfs::XattrSet::any, vfs::Follow::no)),
                  ENOSPC);
        EXPECT_EQ(error_of(mnt.setxattr("/h", "user.toobig", filler(70000, 'h'), vfs::XattrSet::any,
                                        vfs::Follow::no)),
                  E2BIG);
        EXPECT_EQ(error_of(mnt.setxattr("/h", "user." + std::string(251, 'n'), bytes("x"),
                                        vfs::XattrSet::any, vfs::Follow::no)),
                  ERANGE);
        EXPECT_EQ(error_of(mnt.setxattr("/h", "system.data", bytes("x"), vfs::XattrSet::any,
                                        vfs::Follow::no)),
                  EOPNOTSUPP);
        EXPECT_EQ(error_of(mnt.setxattr("/h", "system.other", bytes("x"), vfs::XattrSet::any,
                                        vfs::Follow::no)),
                  EOPNOTSUPP);
        // An attribute block made and emptied again: freed, i_file_acl cleared.
        set(mnt, "/h", "user.a", filler(block_size / 2, 'a'));
        set(mnt, "/h", "user.b", filler(block_size / 4, 'b'));
        remove(mnt, "/h", "user.a");
        remove(mnt, "/h", "user.b");
        set(mnt, "/d", "user.dirattr", bytes("on a directory"));
        for (const char* p : {"/f", "/g", "/h", "/d"})
            expect_same(mnt, p);
        ASSERT_TRUE(mnt.unmount(false));
    }
    {  // again after a fresh mount: what was stored reads back
        auto m = mount_image(img);
        ASSERT_TRUE(m) << m.error().describe();
        for (const char* p : {"/f", "/g", "/h", "/d"})
            expect_same(**m, p);
    }
    expect_clean(img);
    for (const char* p : {"/f", "/g", "/h", "/d"})
        EXPECT_EQ(debugfs_attrs(img, tmp.path(), p), model[p]) << p;
    EXPECT_EQ(file_acl(img, "/h"), "0");
    EXPECT_NE(file_acl(img, "/f"), "0");  // user.big is in a block
    // One small attribute: in the inode when there is room, else in a block.
    if (v.ibody)
        EXPECT_EQ(file_acl(img, "/d"), "0");
    else
        EXPECT_NE(file_acl(img, "/d"), "0");
}

INSTANTIATE_TEST_SUITE_P(Variants, XattrWrite, ::testing::ValuesIn(variants),
                         [](const auto& info) { return std::string(info.param.name); });

// The ext_attr feature is turned on by the first attribute written, as the kernel does.
TEST(XattrWriteFeature, FirstAttributeSetsExtAttr) {
    if (!have_tool("mke2fs") || !have_tool("e2fsck") || !have_tool("dumpe2fs"))
        GTEST_SKIP() << "e2fsprogs is not installed";
    TempDir tmp("ext2xattr");
    const fs::path src = tmp.path() / "src", img = tmp.path() / "x.img";
    fs::create_directories(src);
    write_host_file(src / "f", bytes("f\n"));
    ASSERT_EQ(make_image(src, img, "ext2 -O ^ext_attr", "8M"), 0);
    ASSERT_EQ(capture("dumpe2fs -h " + img.string() + " 2>/dev/null").find("ext_attr"),
              std::string::npos);
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        ASSERT_TRUE(
            (*m)->setxattr("/f", "user.x", bytes("y"), vfs::XattrSet::any, vfs::Follow::no));
        ASSERT_TRUE((*m)->unmount(false));
    }
    EXPECT_NE(capture("dumpe2fs -h " + img.string() + " 2>/dev/null").find("ext_attr"),
              std::string::npos);
    expect_clean(img);
    EXPECT_EQ(hex(debugfs_attrs(img, tmp.path(), "/f")["user.x"]), hex(bytes("y")));
}

// A block two inodes share (h_refcount 2): changing one inode's attributes gives it a copy;
// the other keeps the block, now with one reference.
TEST(XattrWriteShared, CopyOnWrite) {
    if (!have_tool("mke2fs") || !have_tool("e2fsck") || !have_tool("debugfs"))
        GTEST_SKIP() << "e2fsprogs is not installed";
    if (!have_tool("setfattr"))
        GTEST_SKIP() << "setfattr (attr) is not installed";
    for (const char* mkfs : {"ext4 -I 128", "ext4 -I 128 -O ^metadata_csum"}) {
        SCOPED_TRACE(mkfs);
        TempDir tmp("ext2xattr");
        const fs::path src = tmp.path() / "src", img = tmp.path() / "x.img";
        fs::create_directories(src);
        const std::string big(300, 'v');
        for (const char* f : {"a", "b"}) {
            write_host_file(src / f, bytes("same attributes\n"));
            if (run(fmt::format("setfattr -n user.big -v {} {}", big, (src / f).string())) != 0)
                GTEST_SKIP() << "the host file system does not take user attributes";
            ASSERT_EQ(run(fmt::format("setfattr -n user.s -v 1 {}", (src / f).string())), 0);
        }
        ASSERT_EQ(make_image(src, img, mkfs, "8M"), 0);
        // mke2fs gives each file a block: point b at a's, drop b's, count two references
        // there, and let e2fsck set the block's checksum.
        const std::string a_block = file_acl(img, "/a"), b_block = file_acl(img, "/b");
        ASSERT_NE(a_block, b_block);
        ASSERT_EQ(run(fmt::format("debugfs -w -R 'sif /b file_acl {}' {} >/dev/null 2>&1", a_block,
                                  img.string())),
                  0);
        ASSERT_EQ(
            run(fmt::format("debugfs -w -R 'freeb {}' {} >/dev/null 2>&1", b_block, img.string())),
            0);
        ASSERT_EQ(run(fmt::format("debugfs -w -R 'zap_block -o 4 -l 1 -p 2 {}' {} >/dev/null "
                                  "2>&1",
                                  a_block, img.string())),
                  0);
        ASSERT_LE(run("e2fsck -fy " + img.string() + " >/dev/null 2>&1"), 1);
        expect_clean(img);
        ASSERT_EQ(file_acl(img, "/b"), a_block);
        const Attrs before = debugfs_attrs(img, tmp.path(), "/b");
        ASSERT_EQ(before.size(), 2u);
        {
            auto m = mount_image(img, std::size_t{8} << 20, true);
            ASSERT_TRUE(m) << m.error().describe();
            ASSERT_TRUE((*m)->setxattr("/a", "user.s", bytes("2"), vfs::XattrSet::replace,
                                       vfs::Follow::no));
            auto b = (*m)->getxattr("/b", "user.s", vfs::Follow::no);
            ASSERT_TRUE(b);
            EXPECT_EQ(hex(*b), hex(bytes("1")));
            ASSERT_TRUE((*m)->unmount(false));
        }
        expect_clean(img);
        EXPECT_EQ(file_acl(img, "/b"), a_block);
        EXPECT_NE(file_acl(img, "/a"), a_block);
        EXPECT_EQ(debugfs_attrs(img, tmp.path(), "/b"), before);
        Attrs a = before;
        a["user.s"] = bytes("2");
        EXPECT_EQ(debugfs_attrs(img, tmp.path(), "/a"), a);
        const std::string block =
            capture(fmt::format("debugfs -R 'bd {}' {} 2>/dev/null", a_block, img.string()));
        EXPECT_NE(block.find("0000  0000 02ea 0100 0000 0100 0000"), std::string::npos)
            << "h_refcount should be 1 now:\n"
            << block;
    }
}

// POSIX ACLs: read as getfattr shows them on the host, written in ext4's compact form.
TEST(XattrWriteAcl, ReadAndWrite) {
    if (!have_tool("mke2fs") || !have_tool("e2fsck") || !have_tool("debugfs"))
        GTEST_SKIP() << "e2fsprogs is not installed";
    if (!have_tool("setfacl") || !have_tool("getfattr"))
        GTEST_SKIP() << "setfacl (acl) or getfattr (attr) is not installed";
    TempDir tmp("ext2xattr");
    const fs::path src = tmp.path() / "src", img = tmp.path() / "x.img";
    fs::create_directories(src / "d");
    write_host_file(src / "f", bytes("acl\n"));
    write_host_file(src / "g", bytes("no acl yet\n"));
    ::chmod((src / "g").c_str(), 0640);
    if (run("setfacl -m u:1234:rw,g:55:r " + (src / "f").string() + " 2>/dev/null") != 0)
        GTEST_SKIP() << "the host file system does not take ACLs";
    ASSERT_EQ(run("setfacl -d -m u:77:rx " + (src / "d").string()), 0);
    auto host_value = [&](const fs::path& p, const std::string& name) {
        const std::string out = capture("getfattr --absolute-names -e hex -n " + name + " " +
                                        p.string() + " 2>/dev/null");
        std::smatch m;
        static const std::regex value("=0x([0-9a-f]+)");
        return std::regex_search(out, m, value) ? m[1].str() : std::string();
    };
    const std::string f_acl = host_value(src / "f", "system.posix_acl_access");
    const std::string d_acl = host_value(src / "d", "system.posix_acl_default");
    ASSERT_FALSE(f_acl.empty());
    ASSERT_EQ(make_image(src, img, "ext4", "8M"), 0);

    // posix_acl_xattr: version 2, then (tag, perm, id) entries.
    auto acl = [](std::initializer_list<std::array<std::uint32_t, 3>> entries) {
        Bytes out = {std::byte{2}, std::byte{0}, std::byte{0}, std::byte{0}};
        for (const auto& e : entries)
            for (const auto& [x, n] : {std::pair{e[0], 2}, {e[1], 2}, {e[2], 4}})
                for (int i = 0; i < n; ++i)
                    out.push_back(static_cast<std::byte>(x >> (8 * i)));
        return out;
    };
    constexpr std::uint32_t none = 0xFFFFFFFF;
    const Bytes new_acl = acl({{0x01, 6, none},
                               {0x02, 4, 1000},
                               {0x04, 4, none},
                               {0x08, 5, 2000},
                               {0x10, 5, none},
                               {0x20, 0, none}});
    // ext4's form of the same: version 1, short entries without an id.
    const std::string new_acl_disk = "01000000"
                                     "01000600"
                                     "02000400e8030000"
                                     "04000400"
                                     "08000500d0070000"
                                     "10000500"
                                     "20000000";
    {
        auto m = mount_image(img, std::size_t{8} << 20, true);
        ASSERT_TRUE(m) << m.error().describe();
        vfs::Mount& mnt = **m;
        auto got = mnt.getxattr("/f", "system.posix_acl_access", vfs::Follow::no);
        ASSERT_TRUE(got) << got.error().describe();
        EXPECT_EQ(hex(*got), f_acl);
        got = mnt.getxattr("/d", "system.posix_acl_default", vfs::Follow::no);
        ASSERT_TRUE(got) << got.error().describe();
        EXPECT_EQ(hex(*got), d_acl);

        ASSERT_TRUE(mnt.setxattr("/g", "system.posix_acl_access", new_acl, vfs::XattrSet::any,
                                 vfs::Follow::no));
        got = mnt.getxattr("/g", "system.posix_acl_access", vfs::Follow::no);
        ASSERT_TRUE(got);
        EXPECT_EQ(hex(*got), hex(new_acl));
        auto st = mnt.stat("/g", vfs::Follow::no);
        ASSERT_TRUE(st);
        EXPECT_EQ(st->mode & 0777, 0650u);  // owner rw-, mask r-x, other ---
        // Malformed ACLs: no owner entry first, a named user after the group, bad bits.
        for (const Bytes& bad : {acl({{0x04, 4, none}, {0x20, 0, none}}),
                                 acl({{0x01, 6, none},
                                      {0x04, 4, none},
                                      {0x02, 4, 1},
                                      {0x10, 4, none},
                                      {0x20, 0, none}}),
                                 acl({{0x01, 16, none}, {0x04, 4, none}, {0x20, 0, none}}),
                                 Bytes{std::byte{2}, std::byte{0}}})
            EXPECT_EQ(error_of(mnt.setxattr("/g", "system.posix_acl_access", bad,
                                            vfs::XattrSet::any, vfs::Follow::no)),
                      EINVAL);
        // A default ACL only on a directory.
        EXPECT_EQ(error_of(mnt.setxattr("/g", "system.posix_acl_default", new_acl,
                                        vfs::XattrSet::any, vfs::Follow::no)),
                  EACCES);
        // An ACL the mode says all of is not stored: the mode changes instead.
        ASSERT_TRUE(mnt.setxattr("/f", "system.posix_acl_access",
                                 acl({{0x01, 7, none}, {0x04, 5, none}, {0x20, 1, none}}),
                                 vfs::XattrSet::any, vfs::Follow::no));
        EXPECT_EQ(error_of(mnt.getxattr("/f", "system.posix_acl_access", vfs::Follow::no)),
                  ENODATA);
        st = mnt.stat("/f", vfs::Follow::no);
        ASSERT_TRUE(st);
        EXPECT_EQ(st->mode & 0777, 0751u);
        ASSERT_TRUE(mnt.removexattr("/d", "system.posix_acl_default", vfs::Follow::no));
        ASSERT_TRUE(mnt.unmount(false));
    }
    expect_clean(img);
    const std::string disk = capture("debugfs -R 'ea_get -r -x /g system.posix_acl_access' " +
                                     img.string() + " 2>/dev/null");
    std::string digits;
    for (const char c : disk.substr(disk.find('=') + 1))
        if (std::isxdigit(static_cast<unsigned char>(c)))
            digits += c;
    EXPECT_EQ(digits, new_acl_disk) << disk;
    EXPECT_TRUE(debugfs_attrs(img, tmp.path(), "/f").empty());
    EXPECT_TRUE(debugfs_attrs(img, tmp.path(), "/d").empty());
}

}  // namespace
}  // namespace uk::ext2fs::test
