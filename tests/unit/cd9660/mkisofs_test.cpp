// Images built by uk::make_iso (and `fsu mkiso`) from a test tree, read back by our own driver
// (Rock Ridge and Joliet views) and judged by the reference readers: isoinfo -R/-J -l,
// xorriso -find and -osirrox extraction diffed against the source, The Sleuth Kit's fls,
// isoinfo -d and xorriso -check_media. Also: the same tree gives the same bytes,
// SOURCE_DATE_EPOCH clamps times, the name rules, and a sparse file over 4 GiB written as
// a multi-extent file.
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <ukfs/netbsd.h>

#include "fs/cd9660/mkisofs.hpp"
#include "support.hpp"

namespace uk::cd9660::test {
namespace {

// Output of a shell command (stderr discarded) and its exit status.
std::pair<std::string, int> capture(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
    if (p == nullptr)
        return {"", -1};
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    const int rc = ::pclose(p);
    return {out, rc == -1 ? -1 : WEXITSTATUS(rc)};
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

const std::string long_name = std::string(255 - 4, 'L') + ".txt";   // NM in two entries
const std::string unicode_name = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac and spaces.txt";

void set_time(const fs::path& p, time_t t) {
    const timespec ts[2] = {{t, 0}, {t, 0}};
    ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

// The full tree of the reader's tests plus names Rock Ridge must keep whole.
void build_tree(const fs::path& root) {
    build_full_tree(root);
    write_file(root / long_name, pattern(4097, 31));
    write_file(root / unicode_name, pattern(3, 32));
    set_time(root / long_name, 1600000000);
    set_time(root / unicode_name, 1600000001);
    set_time(root, 1400000000);
}

// The tree as a map path -> "type mode uid gid size [target]" (regular files and
// directories only when `rr` is false), walked on the host.
std::map<std::string, std::string> host_listing(const fs::path& root, bool rr) {
    std::map<std::string, std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        struct stat st {};
        ::lstat(it->path().c_str(), &st);
        if (!rr && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            continue;
        const std::string rel = "/" + it->path().lexically_relative(root).string();
        out[rel] = S_ISDIR(st.st_mode) ? "dir" : std::to_string(st.st_size);
    }
    return out;
}

class MkIsofs : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new TempDir;
        build_tree(s_dir->path() / "src");
        IsoOptions o;
        o.volume_id = "ukfs_test";
        s_built = make_iso(src().string(), img().string(), o).has_value();
    }
    static void TearDownTestSuite() {
        delete s_dir;
        s_dir = nullptr;
    }
    void SetUp() override { ASSERT_TRUE(s_built) << "make_iso failed"; }
    static fs::path src() { return s_dir->path() / "src"; }
    static fs::path img() { return s_dir->path() / "built.iso"; }
    static void need(const char* tool) {
        if (!have_tool(tool))
            GTEST_SKIP() << tool << " is not installed";
    }

    static TempDir* s_dir;
    static bool s_built;
    TempDir work;
};
TempDir* MkIsofs::s_dir = nullptr;
bool MkIsofs::s_built = false;

// Joliet names as the builder makes them: at most 62 UTF-16 units before ";1", the extension
// kept.
std::string joliet_name(const std::string& n) {
    if (n == long_name)
        return std::string(62 - 4, 'L') + ".txt";
    if (n.size() == 205 && n.substr(200) == ".long")  // the reader tests' 200-byte name
        return std::string(62 - 5, 'n') + ".long";
    return n;
}

TEST(MkIsofsNames, PrimaryAndJoliet) {
    std::set<std::string> taken;
    EXPECT_EQ(iso_identifier("hello.txt", false, taken), "HELLO.TXT;1");
    EXPECT_EQ(iso_identifier("Hello.TXT", false, taken), "HELLO1.TXT;1");
    EXPECT_EQ(iso_identifier("README", false, taken), "README.;1");
    EXPECT_EQ(iso_identifier("a.b.c-d", false, taken), "A_B.C_D;1");
    EXPECT_EQ(iso_identifier(".profile", false, taken), "_PROFILE.;1");
    EXPECT_EQ(iso_identifier("dir.with.dots", true, taken), "DIR_WITH_DOTS");
    EXPECT_EQ(iso_identifier(std::string(40, 'x'), true, taken), std::string(31, 'X'));
    EXPECT_EQ(iso_identifier(std::string(40, 'x'), true, taken), std::string(30, 'X') + "1");
    EXPECT_EQ(iso_identifier(std::string(40, 'y') + ".extension", false, taken),
              std::string(22, 'Y') + ".EXTENSIO;1");
    std::set<std::string> jt;
    EXPECT_EQ(joliet_identifier("ab", true, jt), std::string("\0a\0b", 4));
    EXPECT_EQ(joliet_identifier("a:b", false, jt), std::string("\0a\0_\0b\0;\0" "1", 10));
    // U+1F600 as a surrogate pair.
    EXPECT_EQ(joliet_identifier("\xf0\x9f\x98\x80", true, jt), std::string("\xd8\x3d\xde\x00", 4));
    const std::string j = joliet_identifier(std::string(100, 'z') + ".dat", false, jt);
    EXPECT_EQ(j.size(), 128u);  // 64 units with ";1"
    const std::string j2 = joliet_identifier(std::string(101, 'z') + ".dat", false, jt);
    EXPECT_EQ(j2.size(), 128u);
    EXPECT_NE(j, j2);
}

// (a) Our driver reads the image back equal to the source, through Rock Ridge and Joliet.
TEST_F(MkIsofs, DriverReadsItBack) {
    {
        auto m = Mount::open(img().string(), ro());
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_GT(compare_tree(*m, src(), {}), 330u);
    }
    {
        iso_args a{};
        a.flags = ISOFSMNT_NORRIP;
        auto m = Mount::open(img().string(), ro(&a, sizeof a));
        ASSERT_TRUE(m) << m.error().describe();
        Expect e;
        e.modes = false;
        e.specials = false;
        e.name = joliet_name;
        EXPECT_GT(compare_tree(*m, src(), e), 320u);
    }
}

// (b) isoinfo lists the same names, sizes and modes through Rock Ridge and Joliet.
// isoinfo -J prints names in ISO 8859-1 and '_' for what it cannot: the same for a UTF-8 name.
std::string latin1(const std::string& utf8) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size();) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        std::uint32_t cp = n == 1 ? c : c & (0x3Fu >> (n - 1));
        for (std::size_t k = 1; k < n && i + k < utf8.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3Fu);
        out += cp < 0x100 ? static_cast<char>(cp) : '_';
        i += n;
    }
    return out;
}

std::map<std::string, std::string> isoinfo_listing(const fs::path& img, const char* tree,
                                                   bool modes,
                                                   std::map<std::string, long>* extents = nullptr) {
    std::map<std::string, std::string> out;
    const auto [text, rc] = capture("isoinfo " + std::string(tree) + " -l -i " + img.string());
    EXPECT_EQ(rc, 0);
    std::string dir;
    for (const std::string& l : lines(text)) {
        if (l.rfind("Directory listing of ", 0) == 0) {
            dir = l.substr(21);
            continue;
        }
        // "drwxr-xr-x   4    0    0            2048 Nov 24 2026 [     23 02]  name "
        const std::size_t close = l.find("]  ");
        if (l.size() < 10 || close == std::string::npos)
            continue;
        std::string name = l.substr(close + 3);
        if (const std::size_t arrow = name.find(" -> "); arrow != std::string::npos)
            name.resize(arrow);
        while (!name.empty() && name.back() == ' ')
            name.pop_back();
        if (name.size() > 2 && name.substr(name.size() - 2) == ";1")
            name.resize(name.size() - 2);
        if (name == "." || name == "..")
            continue;
        std::istringstream f(l);
        std::string mode, links, uid, gid, size;
        f >> mode >> links >> uid >> gid >> size;
        std::string v = mode[0] == 'd' ? "dir" : size;
        if (modes)
            v += " " + mode;
        out[dir + name] = v;
        if (extents != nullptr)
            (*extents)[dir + name] = std::stol(l.substr(l.find('[') + 1));
    }
    return out;
}

// "rwsr-xr-x" as ls prints the permission bits.
std::string perms(mode_t m) {
    std::string s = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i)
        if ((m & (0400u >> i)) == 0)
            s[static_cast<std::size_t>(i)] = '-';
    auto special = [&](std::size_t at, mode_t bit, char set) {
        if ((m & bit) != 0)
            s[at] = s[at] == 'x' ? set : static_cast<char>(set - 'a' + 'A');
    };
    special(2, S_ISUID, 's');
    special(5, S_ISGID, 's');
    special(8, S_ISVTX, 't');
    return s;
}

// isoinfo -R does not follow CL: a relocated directory shows as an entry in its place and
// as /rr_moved/NAME. Put what lies under /rr_moved/NAME back under the one other NAME (the
// trees here have a name once among the deep ones) and drop /rr_moved itself.
std::map<std::string, std::string> undo_relocation(std::map<std::string, std::string> rr) {
    const std::string moved = "/rr_moved";
    std::map<std::string, std::string> out;
    for (auto& [p, v] : rr) {
        if (p == moved)
            continue;
        if (p.rfind(moved + "/", 0) != 0) {
            out.emplace(p, v);
            continue;
        }
        const std::string rest = p.substr(moved.size());  // "/NAME/..."
        const std::string name = rest.substr(0, rest.find('/', 1));
        std::string home;
        for (auto& [q, w] : rr)
            if (q.rfind(moved + "/", 0) != 0 && q.size() > name.size() &&
                q.compare(q.size() - name.size(), name.size(), name) == 0)
                home = q.substr(0, q.size() - name.size());
        EXPECT_FALSE(home.empty()) << p;
        out[home + rest] = v;
    }
    return out;
}

TEST_F(MkIsofs, IsoinfoAgrees) {
    need("isoinfo");
    auto want = host_listing(src(), true);
    std::map<std::string, long> extents;
    auto rr = undo_relocation(isoinfo_listing(img(), "-R", true, &extents));
    // Hard links share one extent.
    EXPECT_EQ(extents["/hello.txt"], extents["/sub/hard"]);
    EXPECT_NE(extents["/hello.txt"], extents["/multi"]);
    for (auto& [p, v] : want) {
        struct stat st {};
        ::lstat((src().string() + p).c_str(), &st);
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            v = "0";  // isoinfo shows the record's size (0) for symlinks and special files
    }
    std::map<std::string, std::string> rr_sizes;
    for (auto& [p, v] : rr) {
        const std::string mode = v.substr(v.find(' ') + 1);
        rr_sizes[p] = v.substr(0, v.find(' '));
        struct stat st {};
        ASSERT_EQ(::lstat((src().string() + p).c_str(), &st), 0) << p;
        EXPECT_EQ(mode.substr(1), perms(st.st_mode & 0777)) << p;  // isoinfo: no setuid
    }
    EXPECT_EQ(rr_sizes, want);
    auto jol = isoinfo_listing(img(), "-J", false);
    std::map<std::string, std::string> jwant;
    for (auto& [p, v] : host_listing(src(), false)) {
        std::string q;
        for (const auto& part : fs::path(p).relative_path())
            q += "/" + latin1(joliet_name(part.string()));
        jwant[q] = v;
    }
    EXPECT_EQ(jol, jwant);
}

// (c) xorriso lists the same tree, and what it extracts equals the source.
TEST_F(MkIsofs, XorrisoAgrees) {
    need("xorriso");
    const auto [text, rc] = capture("xorriso -indev " + img().string() +
                                    " -find / -exec lsdl --");
    ASSERT_EQ(rc, 0);
    std::map<std::string, char> got;
    for (const std::string& l : lines(text)) {
        const std::size_t q = l.find(" '/");
        if (q == std::string::npos)
            continue;
        std::string path = l.substr(q + 2);
        path = path.substr(0, path.find('\'', 1));
        if (path != "/")
            got[path.substr(1)] = l[0];
    }
    std::map<std::string, char> want;
    for (auto& e : fs::recursive_directory_iterator(src())) {
        const auto t = e.symlink_status().type();
        want["/" + e.path().lexically_relative(src()).string()] =
            t == fs::file_type::directory ? 'd' : t == fs::file_type::symlink ? 'l'
            : t == fs::file_type::fifo ? 'p' : t == fs::file_type::character ? 'c'
            : t == fs::file_type::block ? 'b' : '-';
    }
    std::map<std::string, char> got_abs;
    for (auto& [p, c] : got)
        got_abs["/" + p] = c;
    for (auto& [p, c] : want)
        EXPECT_EQ(got_abs[p], c) << p << " in xorriso's listing";
    for (auto& [p, c] : got_abs)
        EXPECT_EQ(want.count(p), 1u) << p << " listed by xorriso, not in the source";

    const fs::path out = work.path() / "out";
    ASSERT_EQ(run("xorriso -osirrox device_files -indev " + img().string() + " -extract / " +
                  out.string()),
              0);
    // diff calls two FIFOs or devices different: their types and numbers are compared below.
    EXPECT_EQ(run("diff -r --no-dereference -x fifo -x cdev -x bdev " + src().string() + " " +
                  out.string()),
              0);
    // Types, modes, owners, sizes, mtimes, symlink targets, device numbers (xorriso restores
    // no mtime of a symlink, and sets directories' before filling them: those are left out).
    const std::string fmt =
        " -mindepth 1 \\( -type l -printf '%P %y %m %U %G %s %l\\n' \\) -o \\( ! -type d "
        "-printf '%P %y %m %U %G %s %T@\\n' \\) | sort";
    const auto a = capture("cd " + src().string() + " && find ." + fmt);
    const auto b = capture("cd " + out.string() + " && find ." + fmt);
    EXPECT_EQ(a.first, b.first);
    const std::string dfmt = " -mindepth 1 -type d -printf '%P %m %U %G\\n' | sort";
    EXPECT_EQ(capture("cd " + src().string() + " && find ." + dfmt).first,
              capture("cd " + out.string() + " && find ." + dfmt).first);
    if (is_root()) {
        struct stat s1 {}, s2 {};
        ASSERT_EQ(::lstat((src() / "cdev").c_str(), &s1), 0);
        ASSERT_EQ(::lstat((out / "cdev").c_str(), &s2), 0);
        EXPECT_EQ(s1.st_rdev, s2.st_rdev);
    }
}

// (d) The Sleuth Kit lists the paths (it reads the Joliet tree: files and directories).
TEST_F(MkIsofs, SleuthKitLists) {
    need("fls");
    const auto [text, rc] = capture("fls -r -p " + img().string());
    ASSERT_EQ(rc, 0);
    std::set<std::string> got;
    for (const std::string& l : lines(text)) {
        const std::size_t tab = l.find('\t');
        if (tab == std::string::npos || l.find("$OrphanFiles") != std::string::npos)
            continue;
        got.insert("/" + l.substr(tab + 1));
    }
    std::set<std::string> want;
    for (auto& [p, v] : host_listing(src(), false)) {
        std::string q;
        for (const auto& part : fs::path(p).relative_path())
            q += "/" + joliet_name(part.string());
        want.insert(q);
    }
    EXPECT_EQ(got, want);
}

// (e) The same tree gives the same bytes; SOURCE_DATE_EPOCH clamps times.
TEST_F(MkIsofs, Deterministic) {
    IsoOptions same;
    same.volume_id = "ukfs_test";
    const fs::path again = work.path() / "again.iso";
    ASSERT_TRUE(make_iso(src().string(), again.string(), same));
    EXPECT_EQ(digest(again), digest(img()));
    // Reading the tree changed access times; a copy of the tree with other inode numbers
    // gives the same image too.
    const fs::path copy = work.path() / "copy";
    ASSERT_EQ(run("cp -a " + src().string() + " " + copy.string()), 0);
    const fs::path third = work.path() / "copy.iso";
    ASSERT_TRUE(make_iso(copy.string(), third.string(), same));
    if (is_root()) {  // cp -a keeps owners only as root
        EXPECT_EQ(digest(third), digest(img()));
    }

    ::setenv("SOURCE_DATE_EPOCH", "1500000000", 1);
    const fs::path sde = work.path() / "sde.iso";
    const auto r = make_iso(src().string(), sde.string());
    ::unsetenv("SOURCE_DATE_EPOCH");
    ASSERT_TRUE(r) << r.error().describe();
    auto m = Mount::open(sde.string(), ro());
    ASSERT_TRUE(m);
    auto st = m->stat("/hello.txt");  // mtime 15xxxxxxxx later than the clamp
    ASSERT_TRUE(st);
    EXPECT_LE(st->st_mtim.tv_sec, 1500000000);
    auto st2 = m->stat("/" + long_name);
    ASSERT_TRUE(st2);
    EXPECT_EQ(st2->st_mtim.tv_sec, 1500000000);
    // The primary descriptor's creation time (8.4.26) is SOURCE_DATE_EPOCH: 2017-07-14 02:40.
    const auto pvd = read_host(sde);
    ASSERT_GT(pvd.size(), 16u * 2048 + 830);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(pvd.data()) + 16 * 2048 + 813, 16),
              "2017071402400000");
}

// isoinfo's view of one tree (it does not follow CL): for every "Directory listing of" the
// directory and each entry's name and type, sorted, so that two images can be compared.
std::vector<std::string> isoinfo_shape(const fs::path& image, const char* tree) {
    std::vector<std::string> out;
    const auto [text, rc] = capture("isoinfo " + std::string(tree) + " -l -i " + image.string());
    EXPECT_EQ(rc, 0);
    std::string dir;
    for (const std::string& l : lines(text)) {
        if (l.rfind("Directory listing of ", 0) == 0) {
            dir = l.substr(21);
            out.push_back(dir);
            continue;
        }
        const std::size_t close = l.find("]  ");
        if (l.size() < 10 || close == std::string::npos)
            continue;
        std::string name = l.substr(close + 3);
        while (!name.empty() && name.back() == ' ')
            name.pop_back();
        if (name != "." && name != "..")
            out.push_back(dir + name + " " + l[0]);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Directories deeper than ISO 9660's eight levels move to rr_moved (RRIP CL, PL, RE), as
// xorriso -rr_reloc_dir does: twice along a 16-deep chain, and two moved directories with
// the same name. Every reader sees the source's paths; isoinfo, which does not follow CL,
// sees what it sees in xorriso's image of the same tree; the primary tree keeps to 8 levels.
TEST_F(MkIsofs, DeepDirectoriesRelocated) {
    const fs::path deep = work.path() / "deep";
    fs::path p = deep;
    for (int i = 1; i <= 16; ++i) {
        p /= "l" + std::to_string(i);
        fs::create_directories(p);
        write_file(p / ("f" + std::to_string(i) + ".txt"), pattern(100 + i, 40 + i));
    }
    for (const char* top : {"p1", "p2"}) {
        const fs::path same = deep / top / "q" / "r" / "s" / "t" / "u" / "v" / "same";
        fs::create_directories(same / "below");
        write_file(same / (std::string("in-") + top), pattern(7, 60));
    }
    fs::create_symlink("../../l1", deep / "p1" / "q" / "up");
    IsoOptions o;
    o.volume_id = "deep";
    const fs::path image = work.path() / "deep.iso";
    ASSERT_TRUE(make_iso(deep.string(), image.string(), o));
    const fs::path again = work.path() / "deep2.iso";
    ASSERT_TRUE(make_iso(deep.string(), again.string(), o));
    EXPECT_EQ(digest(again), digest(image));

    const std::string bottom = "/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11/l12/l13/l14/l15/l16";
    {
        auto m = Mount::open(image.string(), ro());
        ASSERT_TRUE(m) << m.error().describe();
        EXPECT_GE(compare_tree(*m, deep, {}), 50u);
        auto f = m->read_file(bottom + "/f16.txt");
        ASSERT_TRUE(f) << f.error().describe();
        EXPECT_EQ(*f, pattern(116, 56));
        auto a = m->stat(bottom);
        auto b = m->stat(bottom + "/../l16");
        ASSERT_TRUE(a && b);
        EXPECT_EQ(a->st_ino, b->st_ino);  // ".." of a moved directory leads back (PL)
    }
    if (have_tool("xorriso")) {
        const auto [text, rc] = capture("xorriso -indev " + image.string() + " -find /");
        ASSERT_EQ(rc, 0);
        std::set<std::string> got;
        for (const std::string& l : lines(text))
            if (l.size() > 3 && l.front() == '\'' && l != "'/'")
                got.insert(l.substr(1, l.size() - 2));
        std::set<std::string> want;
        for (auto& e : fs::recursive_directory_iterator(deep))
            want.insert("/" + e.path().lexically_relative(deep).string());
        EXPECT_EQ(got, want);
        EXPECT_TRUE(got.count(bottom + "/f16.txt"));
        const auto [cm, rc2] =
            capture("xorriso -abort_on FAILURE -indev " + image.string() + " -check_media -- 2>&1");
        EXPECT_EQ(rc2, 0);
        EXPECT_NE(cm.find("+ good"), std::string::npos) << cm;
        EXPECT_EQ(cm.find("FAILURE"), std::string::npos) << cm;
        EXPECT_EQ(cm.find("SORRY"), std::string::npos) << cm;
    }
    if (have_tool("isoinfo")) {
        // The primary tree: at most 8 levels, so no listing below /A/B/C/D/E/F/G/.
        std::size_t deepest = 0;
        for (const std::string& l : isoinfo_shape(image, ""))
            if (l.back() == '/')
                deepest = std::max<std::size_t>(
                    deepest, static_cast<std::size_t>(std::count(l.begin(), l.end(), '/')));
        EXPECT_LE(deepest, 8u);  // "/" and 7 names
        EXPECT_GE(deepest, 5u);
        const auto ours = isoinfo_shape(image, "-R");
        EXPECT_NE(std::find(ours.begin(), ours.end(), "/rr_moved/l8/"), ours.end());
        EXPECT_NE(std::find(ours.begin(), ours.end(), "/rr_moved/l14/"), ours.end());
        if (have_tool("xorriso")) {
            const fs::path ref = work.path() / "ref.iso";
            ASSERT_EQ(run("xorriso -as mkisofs -R -rr_reloc_dir rr_moved -o " + ref.string() + " " +
                          deep.string()),
                      0);
            EXPECT_EQ(ours, isoinfo_shape(ref, "-R"));
        }
        // Joliet keeps the source's shape.
        const auto jol = isoinfo_shape(image, "-J");
        EXPECT_NE(std::find(jol.begin(), jol.end(), bottom + "/"), jol.end());
    }
}

// (f) The descriptors parse and every block reads.
TEST_F(MkIsofs, CheckersClean) {
    need("isoinfo");
    need("xorriso");
    const auto [d, rc] = capture("isoinfo -d -i " + img().string());
    ASSERT_EQ(rc, 0);
    EXPECT_NE(d.find("Volume id: UKFS_TEST"), std::string::npos) << d;
    EXPECT_NE(d.find("Joliet with UCS level 3 found"), std::string::npos) << d;
    EXPECT_NE(d.find("Rock Ridge signatures version 1 found"), std::string::npos) << d;
    const auto [cm, rc2] = capture("xorriso -abort_on FAILURE -indev " + img().string() +
                                   " -check_media -- 2>&1");
    EXPECT_EQ(rc2, 0);
    EXPECT_NE(cm.find("+ good"), std::string::npos) << cm;
    EXPECT_EQ(cm.find("- "), std::string::npos) << cm;
    EXPECT_EQ(cm.find("FAILURE"), std::string::npos) << cm;
    EXPECT_EQ(cm.find("SORRY"), std::string::npos) << cm;
}

// The path tables (9.4) of both trees: one entry per directory, L and M the same but for byte
// order, each entry's block a directory whose "." points to itself and whose ".." points to
// the entry's parent, parents before children.
TEST_F(MkIsofs, PathTables) {
    const auto b = read_host(img());
    auto u8 = [&](std::size_t at) { return static_cast<std::uint32_t>(b.at(at)); };
    auto le = [&](std::size_t at, int n) {
        std::uint32_t v = 0;
        for (int i = n - 1; i >= 0; --i)
            v = (v << 8) | u8(at + static_cast<std::size_t>(i));
        return v;
    };
    auto be = [&](std::size_t at, int n) {
        std::uint32_t v = 0;
        for (int i = 0; i < n; ++i)
            v = (v << 8) | u8(at + static_cast<std::size_t>(i));
        return v;
    };
    std::size_t dirs = 1;
    for (auto& e : fs::recursive_directory_iterator(src()))
        dirs += e.is_directory() && !e.is_symlink() ? 1 : 0;
    for (const std::size_t vd : {std::size_t{16} * 2048, std::size_t{17} * 2048}) {
        SCOPED_TRACE(vd == 16 * 2048 ? "primary" : "joliet");
        const std::uint32_t size = le(vd + 132, 4);
        const std::size_t l = std::size_t{le(vd + 140, 4)} * 2048;
        const std::size_t m = std::size_t{be(vd + 148, 4)} * 2048;
        std::vector<std::uint32_t> lbas;
        std::size_t off = 0;
        while (off < size) {
            const std::uint32_t len = u8(l + off);
            ASSERT_GT(len, 0u);
            const std::uint32_t lba = le(l + off + 2, 4), parent = le(l + off + 6, 2);
            EXPECT_EQ(u8(m + off), len);
            EXPECT_EQ(be(m + off + 2, 4), lba);
            EXPECT_EQ(be(m + off + 6, 2), parent);
            ASSERT_GE(parent, 1u);
            ASSERT_LE(parent, lbas.size() + 1);  // parents come first (the root is its own)
            const std::size_t dir = std::size_t{lba} * 2048;
            EXPECT_EQ(le(dir + 2, 4), lba) << "\".\" of path table entry " << lbas.size() + 1;
            const std::size_t dotdot = dir + u8(dir);
            const std::uint32_t up = lbas.empty() ? lba : lbas[parent - 1];
            EXPECT_EQ(le(dotdot + 2, 4), up) << "\"..\" of entry " << lbas.size() + 1;
            lbas.push_back(lba);
            off += 8 + len + (len % 2);
        }
        EXPECT_EQ(off, size);
        // The tree is 13 levels deep: the primary tree has rr_moved besides.
        EXPECT_EQ(lbas.size(), vd == 16 * 2048 ? dirs + 1 : dirs);
    }
}

// Names that collide once mangled stay distinct in every tree, and each file keeps its data.
TEST_F(MkIsofs, CollidingNames) {
    const fs::path tree = work.path() / "names";
    fs::create_directories(tree);
    const std::vector<std::string> names = {
        "a.txt", "A.txt", "a_txt", "A.TXT", "a+txt", "a.txt.", ".a", "_a",
        std::string(70, 'x') + "1.dat", std::string(70, 'x') + "2.dat",
        std::string(70, 'x') + "3.dat", std::string(40, 'y'), std::string(40, 'y') + "z"};
    for (std::size_t i = 0; i < names.size(); ++i)
        write_file(tree / names[i], pattern(100 + i, static_cast<std::uint32_t>(i)));
    const fs::path out = work.path() / "names.iso";
    ASSERT_TRUE(make_iso(tree.string(), out.string()));
    for (const int flags : {0, ISOFSMNT_NORRIP, ISOFSMNT_NORRIP | ISOFSMNT_NOJOLIET}) {
        SCOPED_TRACE(flags);
        iso_args a{};
        a.flags = flags;
        auto m = Mount::open(out.string(), ro(&a, sizeof a));
        ASSERT_TRUE(m);
        auto list = m->list("/");
        ASSERT_TRUE(list);
        std::set<std::string> seen;
        std::set<std::string> contents;  // as strings: GCC 12 -O3 misjudges byte vectors' <=>
        for (const DirEntry& d : *list) {
            if (d.name == "." || d.name == "..")
                continue;
            EXPECT_TRUE(seen.insert(d.name).second) << d.name;
            auto data = m->read_file("/" + d.name);
            ASSERT_TRUE(data) << d.name;
            contents.emplace(reinterpret_cast<const char*>(data->data()), data->size());
        }
        EXPECT_EQ(seen.size(), names.size());
        EXPECT_EQ(contents.size(), names.size());
        if (flags == 0) {
            EXPECT_EQ(seen, std::set<std::string>(names.begin(), names.end()));
        }
    }
}

// More nodes than the VFS keeps cached (8192): a walk that stats every one (the vnode cache
// trims as it goes) reads them all. 21,000 nodes: fewer did not show the vnode cache
// returning a node its own trimming had just freed.
TEST_F(MkIsofs, ManyFiles) {
    const fs::path tree = work.path() / "many";
    for (int d = 0; d < 70; ++d) {
        const fs::path dir = tree / ("d" + std::to_string(d));
        fs::create_directories(dir);
        for (int f = 0; f < 300; ++f)
            write_file(dir / ("file" + std::to_string(f)), {});
    }
    const fs::path out = work.path() / "many.iso";
    ASSERT_TRUE(make_iso(tree.string(), out.string()));
    auto m = Mount::open(out.string(), ro());
    ASSERT_TRUE(m);
    std::size_t n = 0;
    auto top = m->list("/");
    ASSERT_TRUE(top);
    for (const DirEntry& d : *top) {
        if (d.name == "." || d.name == "..")
            continue;
        auto files = m->list("/" + d.name);
        ASSERT_TRUE(files);
        for (const DirEntry& f : *files) {
            if (f.name == "." || f.name == "..")
                continue;
            auto st = m->stat("/" + d.name + "/" + f.name);
            ASSERT_TRUE(st) << d.name << "/" << f.name;
            ++n;
        }
    }
    EXPECT_EQ(n, 21000u);
}

// Without Rock Ridge and Joliet: plain names; and owner/mode mapping.
TEST_F(MkIsofs, OptionsPlainAndMapped) {
    const fs::path plain_src = work.path() / "plain";
    build_plain_tree(plain_src);
    const fs::path plain = work.path() / "plain.iso";
    IsoOptions o;
    o.rock_ridge = false;
    o.joliet = false;
    ASSERT_TRUE(make_iso(plain_src.string(), plain.string(), o));
    {
        auto m = Mount::open(plain.string(), ro());
        ASSERT_TRUE(m);
        Expect e;
        e.modes = false;
        e.specials = false;
        EXPECT_EQ(compare_tree(*m, plain_src, e), 6u);
    }
    const fs::path mapped = work.path() / "mapped.iso";
    IsoOptions r;
    r.rational = true;
    r.uid = 7;
    ASSERT_TRUE(make_iso(src().string(), mapped.string(), r));
    auto m = Mount::open(mapped.string(), ro());
    ASSERT_TRUE(m);
    auto secret = m->stat("/secret");  // 0640 in the source
    ASSERT_TRUE(secret);
    EXPECT_EQ(secret->st_mode & 07777, 0444u);
    EXPECT_EQ(secret->st_uid, 7u);
    EXPECT_EQ(secret->st_gid, 0u);
    auto setuid = m->stat("/setuid");  // 04755
    ASSERT_TRUE(setuid);
    EXPECT_EQ(setuid->st_mode & 07777, 04555u);
    auto inner = m->stat("/sub/inner");  // 0700
    ASSERT_TRUE(inner);
    EXPECT_EQ(inner->st_mode & 07777, 0555u);
}

std::string long_target(std::size_t n) {
    std::string t;
    while (t.size() + 300 < n)
        t += std::string(250, 'c') + "/";
    return t + std::string(n - t.size(), 'd');
}

// A socket (Rock Ridge PX type only) and long symlink targets: SL entries over several
// continuation areas. xorriso reads targets up to 1023 bytes (libisofs' limit); ours, and
// the image, hold up to 4095.
TEST_F(MkIsofs, SocketAndLongSymlinks) {
    const fs::path tree = work.path() / "sock";
    fs::create_directories(tree);
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(s, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string sp = (tree / "s").string();
    ASSERT_LT(sp.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, sp.c_str(), sp.size() + 1);
    ASSERT_EQ(::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ::close(s);
    fs::create_symlink(long_target(1000), tree / "long1000");
    const fs::path out = work.path() / "sock.iso";
    ASSERT_TRUE(make_iso(tree.string(), out.string()));
    {
        auto m = Mount::open(out.string(), ro());
        ASSERT_TRUE(m);
        auto st = m->stat("/s", Follow::no);
        ASSERT_TRUE(st);
        EXPECT_TRUE(S_ISSOCK(st->st_mode));
        auto t = m->readlink("/long1000");
        ASSERT_TRUE(t) << t.error().describe();
        EXPECT_EQ(*t, long_target(1000));
    }
    if (have_tool("xorriso")) {
        const auto [text, rc] = capture("xorriso -indev " + out.string() +
                                        " -find / -exec lsdl --");
        EXPECT_EQ(rc, 0);
        EXPECT_NE(text.find("'/long1000' -> '" + long_target(1000) + "'"), std::string::npos)
            << text;
        EXPECT_NE(text.find("\nsrw"), std::string::npos) << text;
    }
    fs::create_symlink(long_target(4095), tree / "longest");
    ASSERT_TRUE(make_iso(tree.string(), out.string()));
    auto m = Mount::open(out.string(), ro());
    ASSERT_TRUE(m);
    auto t = m->readlink("/longest");
    ASSERT_TRUE(t) << t.error().describe();
    EXPECT_EQ(*t, long_target(4095));
}

// The command line: fsu mkiso.
TEST_F(MkIsofs, FsuMkiso) {
    const fs::path out = work.path() / "cli.iso";
    const auto [text, rc] = capture(std::string(UKFS_FSU) +
                                    " mkiso -V cli_vol --no-joliet --owner 12:34 " +
                                    src().string() + " " + out.string());
    ASSERT_EQ(rc, 0) << text;
    auto m = Mount::open(out.string(), ro());
    ASSERT_TRUE(m) << m.error().describe();
    auto st = m->stat("/secret");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->st_uid, 12u);
    EXPECT_EQ(st->st_gid, 34u);
    EXPECT_EQ(st->st_mode & 07777, 0640u);
    const auto [d, rc2] = capture("isoinfo -d -i " + out.string());
    if (rc2 == 0) {
        EXPECT_NE(d.find("Volume id: CLI_VOL"), std::string::npos) << d;
        EXPECT_EQ(d.find("Joliet with UCS"), std::string::npos) << d;
    }
    EXPECT_EQ(capture(std::string(UKFS_FSU) + " mkiso only-one-operand").second, 2);
    EXPECT_EQ(capture(std::string(UKFS_FSU) + " mkiso /nonexistent " + out.string()).second, 1);
}

// A sparse file over 4 GiB: multi-extent records. Cheap where the file system keeps holes
// (the builder skips them with SEEK_DATA and leaves them in the image); skipped elsewhere
// unless UKFS_TEST_BIG=1.
TEST_F(MkIsofs, BigFileMultiExtent) {
    struct statvfs sv {};
    ASSERT_EQ(::statvfs(work.path().c_str(), &sv), 0);
    if (static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize < (std::uint64_t{1} << 30))
        GTEST_SKIP() << "less than 1 GiB free";
    const fs::path big_src = work.path() / "bigsrc";
    fs::create_directories(big_src);
    const std::uint64_t size = (std::uint64_t{9} << 29) + 12345;  // 4.5 GiB and a bit
    {
        const int fd = ::open((big_src / "huge").c_str(), O_WRONLY | O_CREAT, 0644);
        ASSERT_GE(fd, 0);
        const std::string head = "head", tail = "tail";
        ASSERT_EQ(::pwrite(fd, head.data(), head.size(), 0), 4);
        ASSERT_EQ(::pwrite(fd, tail.data(), tail.size(), static_cast<off_t>(size - 4)), 4);
        ::close(fd);
    }
    struct stat hs {};
    ASSERT_EQ(::stat((big_src / "huge").c_str(), &hs), 0);
    if (hs.st_blocks * 512 > (16 << 20) && std::getenv("UKFS_TEST_BIG") == nullptr)
        GTEST_SKIP() << "no sparse files here (set UKFS_TEST_BIG=1 to run anyway)";
    write_file(big_src / "after", pattern(5000, 40));
    const fs::path big = work.path() / "big.iso";
    ASSERT_TRUE(make_iso(big_src.string(), big.string()));
    auto m = Mount::open(big.string(), ro());
    ASSERT_TRUE(m);
    auto st = m->stat("/huge");
    ASSERT_TRUE(st);
    EXPECT_EQ(static_cast<std::uint64_t>(st->st_size), size);
    std::vector<std::byte> b(4);
    ASSERT_TRUE(m->read("/huge", size - 4, b));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), 4), "tail");
    ASSERT_TRUE(m->read("/huge", 0, b));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), 4), "head");
    {
        iso_args a{};
        a.flags = ISOFSMNT_NORRIP;  // the Joliet tree's records are multi-extent too
        auto j = Mount::open(big.string(), ro(&a, sizeof a));
        ASSERT_TRUE(j);
        auto js = j->stat("/huge");
        ASSERT_TRUE(js);
        EXPECT_EQ(static_cast<std::uint64_t>(js->st_size), size);
        ASSERT_TRUE(j->read("/huge", size - 4, b));
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), 4), "tail");
    }
    auto after = m->read_file("/after");
    ASSERT_TRUE(after);
    EXPECT_TRUE(*after == pattern(5000, 40));
    if (have_tool("xorriso")) {
        const auto [text, rc] = capture("xorriso -indev " + big.string() +
                                        " -find /huge -exec lsdl --");
        EXPECT_NE(text.find(std::to_string(size)), std::string::npos) << text;
    }
}

}  // namespace
}  // namespace uk::cd9660::test
