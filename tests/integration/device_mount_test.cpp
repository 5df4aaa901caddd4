// Mounting real images end to end: partitions made by sgdisk and sfdisk, the file systems in
// them made by mke2fs, selected with selectors through both APIs; byte-range locks between
// mounts in this process and in another; a read-only mount leaving the image untouched.
#include <rump/ukfs.h>
#include <ukfs/ukfs.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace fs = std::filesystem;

namespace {

bool have(const char* tool) {
    return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class DeviceMount : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* t : {"mke2fs", "sgdisk", "sfdisk"})
            if (!have(t))
                GTEST_SKIP() << t << " is not installed (scripts/setup.sh installs it)";
        char tmpl[] = "/tmp/ukfs-devmount-XXXXXX";
        dir = mkdtemp(tmpl);
        fs::create_directories(dir / "src/sub");
        std::ofstream(dir / "src/hello.txt") << "hello, partition\n";
        std::ofstream(dir / "src/sub/data") << std::string(70000, 'z');
        // A GPT disk: partition 1 of 4 MiB named "boot", partition 2 "root" holding ext4.
        img = dir / "disk.img";
        ASSERT_EQ(sh("truncate -s 40M " + img.string()), 0);
        ASSERT_EQ(sh("sgdisk -n 1:2048:+4M -c 1:boot -n 2:0:+32M -c 2:root " + img.string()), 0);
        // Partition 2 starts right after partition 1: sector 2048 + 8192.
        root_offset = (2048ull + 8192ull) * 512;
        ASSERT_EQ(sh("mke2fs -q -F -t ext4 -E offset=" + std::to_string(root_offset) +
                     ",root_owner=0:0 -d " + (dir / "src").string() + " " + img.string() +
                     " 32M"),
                  0);
    }
    void TearDown() override {
        if (!dir.empty())
            fs::remove_all(dir);
    }
    fs::path dir, img;
    std::uint64_t root_offset = 0;
};

std::string read_text(uk::Mount& m, std::string_view path) {
    auto bytes = m.read_file(path);
    EXPECT_TRUE(bytes) << path << ": " << bytes.error().describe();
    return bytes ? std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size()) : "";
}

}  // namespace

TEST_F(DeviceMount, GptPartitionsByNameNumberAndOffset) {
    const std::string before = slurp(img);
    for (const std::string& sel : std::vector<std::string>{"%GPT:name=root%", "%GPT:2%",
                            "%OFFSET:" + std::to_string(root_offset) + ",33554432%"}) {
        auto m = uk::Mount::open(img.string() + sel, {.type = "", .read_only = true});
        ASSERT_TRUE(m) << sel << ": " << m.error().describe();
        EXPECT_EQ(m->type(), "ext2fs");  // detected
        EXPECT_EQ(read_text(*m, "/hello.txt"), "hello, partition\n");
        EXPECT_EQ(read_text(*m, "/sub/data"), std::string(70000, 'z'));
    }
    EXPECT_EQ(slurp(img), before) << "a read-only mount changed the image";

    auto whole = uk::Mount::open(img.string(), {.type = "", .read_only = true});
    ASSERT_FALSE(whole);  // the whole disk holds a partition table, not a file system
    EXPECT_EQ(whole.error().errnum(), ENODEV);
    auto missing = uk::Mount::open(img.string() + "%GPT:name=nosuch%", {.type = "", .read_only = true});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().errnum(), ENOENT);
}

TEST_F(DeviceMount, CApiWithProbedPartition) {
    std::string path = img.string() + "%GPT:name=root%";
    struct ukfs_part* part = nullptr;
    ASSERT_EQ(ukfs_part_probe(path.data(), &part), 0) << ukfs_errmsg();
    EXPECT_STREQ(path.c_str(), img.c_str());  // the selector was cut off
    struct ukfs* fs = ukfs_mount_disk(MOUNT_EXT2FS, path.c_str(), part, UKFS_DEFAULTMP,
                                      MNT_RDONLY, nullptr, 0);
    ASSERT_NE(fs, nullptr) << ukfs_errmsg();
    char buf[64] = {};
    EXPECT_EQ(ukfs_read(fs, "/hello.txt", 0, reinterpret_cast<uint8_t*>(buf), sizeof buf), 17);
    EXPECT_EQ(ukfs_release(fs, 0), 0);
    ukfs_part_release(part);
}

TEST_F(DeviceMount, MbrLogicalPartition) {
    fs::path mbr = dir / "mbr.img";
    ASSERT_EQ(sh("truncate -s 40M " + mbr.string()), 0);
    ASSERT_EQ(sh("printf 'label: dos\\nstart=2048, size=8192, type=83\\nstart=10240, type=5\\n"
                 "start=12288, size=65536, type=83\\n' | sfdisk " + mbr.string()),
              0);
    ASSERT_EQ(sh("mke2fs -q -F -t ext2 -E offset=" + std::to_string(12288ull * 512) + " -d " +
                 (dir / "src").string() + " " + mbr.string() + " 32M"),
              0);
    auto m = uk::Mount::open(mbr.string() + "%MBR:5%", {.type = "ext2fs", .read_only = true});
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_EQ(read_text(*m, "/hello.txt"), "hello, partition\n");
}

TEST_F(DeviceMount, LocksBetweenMounts) {
    std::string root = img.string() + "%GPT:name=root%";
    auto reader = uk::Mount::open(root, {.type = "", .read_only = true});
    ASSERT_TRUE(reader) << reader.error().describe();
    auto reader2 = uk::Mount::open(root, {.type = "", .read_only = true});
    EXPECT_TRUE(reader2) << "two read-only mounts share the image";

    // A writer in this process is refused, naming this process as the holder.
    auto writer = uk::Mount::open(root, {.type = "", .read_only = false});
    ASSERT_FALSE(writer);
    EXPECT_TRUE(writer.error().errnum() == EAGAIN || writer.error().errnum() == EACCES);
    EXPECT_NE(writer.error().message().find(std::to_string(getpid())), std::string::npos)
        << writer.error().message();

    // And in another process (a fresh one: a forked child would share our locked
    // descriptions), through the C API: the test binary runs its ChildWriter test.
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        setenv("UKFS_CHILD_DEVICE", root.c_str(), 1);
        setenv("UKFS_CHILD_HOLDER", std::to_string(getppid()).c_str(), 1);
        execl("/proc/self/exe", "child", "--gtest_filter=DeviceMountChild.WriterIsRefused",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the other process was not refused";

    // The other partition is another byte range: a writer there passes the lock and fails
    // only because the partition holds no ext2 file system.
    auto boot = uk::Mount::open(img.string() + "%GPT:name=boot%", {.type = "ext2fs"});
    ASSERT_FALSE(boot);
    EXPECT_EQ(boot.error().errnum(), EINVAL) << boot.error().describe();

    // Released: the writer gets the lock now.
    ASSERT_TRUE(reader->release());
    ASSERT_TRUE(reader2->release());
    auto again = uk::Mount::open(root, {.type = "ext2fs", .read_only = false});
    ASSERT_TRUE(again) << again.error().describe();
    EXPECT_TRUE(again->release());
}

// Run by LocksBetweenMounts in a separate process; skipped when run on its own.
TEST(DeviceMountChild, WriterIsRefused) {
    const char* device = std::getenv("UKFS_CHILD_DEVICE");
    const char* holder = std::getenv("UKFS_CHILD_HOLDER");
    if (!device || !holder)
        GTEST_SKIP() << "run by DeviceMount.LocksBetweenMounts";
    struct ukfs* fs = ukfs_mount(MOUNT_EXT2FS, device, UKFS_DEFAULTMP, 0, nullptr, 0);
    ASSERT_EQ(fs, nullptr);
    EXPECT_TRUE(errno == EAGAIN || errno == EACCES) << strerror(errno);
    EXPECT_NE(std::string(ukfs_errmsg()).find(std::string("held by pid ") + holder),
              std::string::npos)
        << ukfs_errmsg();
}
