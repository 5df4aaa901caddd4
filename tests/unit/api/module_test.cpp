// Driver modules: ukfs_modload and ukfs_modload_dir with a module built for the test.
#include <rump/ukfs.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

TEST(Modules, LoadRegistersTheType) {
    const std::string dir = UKFS_TEST_MODULE_DIR;
    ASSERT_EQ(ukfs_modload((dir + "/libukfs_fs_testmod.so").c_str()), 1) << ukfs_errmsg();
    char types[256];
    ASSERT_GT(ukfs_vfstypes(types, sizeof types), 0);
    EXPECT_NE(std::string(types).find("modfs"), std::string::npos);
    struct ukfs* fs = ukfs_mount("modfs", "none", UKFS_DEFAULTMP, 0, nullptr, 0);
    ASSERT_NE(fs, nullptr);
    EXPECT_EQ(ukfs_mkdir(fs, "/works", 0755), 0);
    EXPECT_EQ(ukfs_release(fs, 0), 0);
    // Loading it again: the type exists (NetBSD's module_init says EEXIST too).
    EXPECT_EQ(ukfs_modload((dir + "/libukfs_fs_testmod.so").c_str()), -1);
    EXPECT_EQ(errno, EEXIST);
    // The directory scan finds only libukfs_fs_*.so files; this one fails again with EEXIST.
    EXPECT_EQ(ukfs_modload_dir(dir.c_str()), -1);
    EXPECT_EQ(errno, EEXIST);
}
