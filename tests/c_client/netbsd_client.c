/*
 * A NetBSD libukfs client, built against the installed library (pkg-config or find_package)
 * by tests/c_client/run.sh: it uses only <rump/ukfs.h> and the host's headers, and exits
 * non-zero at the first call that does not behave as NetBSD's libukfs documents.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <rump/ukfs.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s (errno %d: %s)\n", __FILE__, __LINE__, #cond, \
                    errno, strerror(errno));                                                       \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void) {
    CHECK(_ukfs_init(1) == -1 && errno == EPROGMISMATCH);
    CHECK(ukfs_init() == 0);

    struct ukfs *fs = ukfs_mount(MOUNT_TMPFS, "tmpfs", UKFS_DEFAULTMP, 0, NULL, 0);
    CHECK(fs != NULL);
    int cookie = 42;
    ukfs_setspecific(fs, &cookie);
    CHECK(ukfs_getspecific(fs) == &cookie);
    CHECK(ukfs_getmp(fs) != NULL && ukfs_getrvp(fs) != NULL);

    CHECK(ukfs_util_builddirs(fs, "/a/b/c", 0755) == 0);
    CHECK(ukfs_mkdir(fs, "/a", 0755) == -1 && errno == EEXIST);
    CHECK(ukfs_create(fs, "/a/f", 0640) == 0);
    uint8_t data[] = "0123456789";
    CHECK(ukfs_write(fs, "/a/f", 0, data, 10) == 10);
    CHECK(ukfs_write(fs, "/a/missing", 0, data, 10) == -1 && errno == ENOENT);
    CHECK(ukfs_create(fs, "/a/f", 0640) == 0); /* not truncated */
    struct stat st;
    CHECK(ukfs_stat(fs, "/a/f", &st) == 0 && st.st_size == 10 && (st.st_mode & 07777) == 0640);

    uint8_t buf[64];
    CHECK(ukfs_read(fs, "/a/f", 5, buf, sizeof buf) == 5 && memcmp(buf, "56789", 5) == 0);
    CHECK(ukfs_read(fs, "/a", 0, buf, sizeof buf) == -1 && errno == EISDIR);

    int fd = ukfs_open(fs, "/a/f", O_RDWR);
    CHECK(fd >= 0);
    CHECK(ukfs_write_fd(fs, fd, 10, data, 5, 1) == 5);
    CHECK(ukfs_remove(fs, "/a/f") == 0);
    CHECK(ukfs_read_fd(fs, fd, 0, buf, sizeof buf) == 15); /* still open after unlink */
    CHECK(ukfs_close(fs, fd) == 0);
    CHECK(ukfs_close(fs, fd) == -1 && errno == EBADF);

    CHECK(ukfs_symlink(fs, "b/c", "/a/link") == 0);
    char target[16];
    CHECK(ukfs_readlink(fs, "/a/link", target, sizeof target) == 3 && memcmp(target, "b/c", 3) == 0);
    CHECK(ukfs_lstat(fs, "/a/link", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(ukfs_stat(fs, "/a/link", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(ukfs_chdir(fs, "/a/link") == 0);
    CHECK(ukfs_mkfifo(fs, "fifo", 0600) == 0);
    CHECK(ukfs_stat(fs, "/a/b/c/fifo", &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK(ukfs_mknod(fs, "/a/dev", S_IFCHR | 0600, 0x0501) == 0);
    CHECK(ukfs_link(fs, "/a/dev", "/a/dev2") == 0);
    CHECK(ukfs_stat(fs, "/a/dev2", &st) == 0 && st.st_nlink == 2 && st.st_rdev == 0x0501);
    CHECK(ukfs_rename(fs, "/a/dev2", "/a/b/dev3") == 0);
    CHECK(ukfs_rmdir(fs, "/a/b") == -1 && errno == ENOTEMPTY);

    CHECK(ukfs_chmod(fs, "/a/dev", 0604) == 0);
    CHECK(ukfs_lchmod(fs, "/a/link", 0700) == 0);
    CHECK(ukfs_chown(fs, "/a/dev", 12, 34) == 0);
    CHECK(ukfs_lchown(fs, "/a/link", 56, 78) == 0);
    CHECK(ukfs_chflags(fs, "/a/dev", UF_NODUMP) == 0);
    CHECK(ukfs_lchflags(fs, "/a/link", UF_NODUMP) == 0);
    struct timeval tv[2] = {{1000000000, 0}, {1234567890, 500000}};
    CHECK(ukfs_utimes(fs, "/a/dev", tv) == 0);
    CHECK(ukfs_lutimes(fs, "/a/link", NULL) == 0);
    CHECK(ukfs_stat(fs, "/a/dev", &st) == 0 && st.st_mtime == 1234567890 && st.st_uid == 12);

    struct ukfs_dircookie *dc;
    CHECK(ukfs_opendir(fs, "/a", &dc) == 0);
    off_t off = 0;
    int n, entries = 0;
    while ((n = ukfs_getdents_cookie(fs, dc, &off, buf, sizeof buf)) > 0)
        for (int pos = 0; pos < n; pos += ((struct ukfs_dirent *)(buf + pos))->d_reclen)
            entries++;
    CHECK(n == 0 && entries == 5); /* . .. b dev link */
    CHECK(ukfs_closedir(fs, dc) == 0);

    char types[256];
    CHECK(ukfs_vfstypes(types, sizeof types) > 0 && strstr(types, "tmpfs") != NULL);

    struct ukfs_part *part;
    char dev[] = "disk.img%OFFSET:512,1024%";
    CHECK(ukfs_part_probe(dev, &part) == 0 && strcmp(dev, "disk.img") == 0);
    char partstr[64];
    CHECK(ukfs_part_tostring(part, partstr, sizeof partstr) == 1);
    ukfs_part_release(part);
    char bad[] = "disk.img%PART:a%";
    CHECK(ukfs_part_probe(bad, &part) == -1 && errno == ENODEV);

    fd = ukfs_open(fs, "/a/dev", O_RDONLY);
    CHECK(ukfs_release(fs, 0) == -1 && errno == EBUSY);
    CHECK(ukfs_release(fs, UKFS_RELFLAG_FORCE) == 0);
    printf("netbsd_client: all checks passed\n");
    return 0;
}
