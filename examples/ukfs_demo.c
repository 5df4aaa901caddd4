/*
 * The main job until a disk driver lands: a tmpfs mounted through the NetBSD libukfs C API,
 * filled, listed, read back and released, as a NetBSD client would do it.
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rump/ukfs.h>

int main(void) {
    struct tmpfs_args args = {.ta_version = TMPFS_ARGS_VERSION,
                              .ta_size_max = 16 << 20,
                              .ta_root_mode = 0755};
    if (ukfs_init() == -1)
        err(1, "ukfs_init");
    struct ukfs *fs = ukfs_mount(MOUNT_TMPFS, "tmpfs", UKFS_DEFAULTMP, 0, &args, sizeof args);
    if (fs == NULL)
        err(1, "ukfs_mount: %s", ukfs_errmsg());

    if (ukfs_util_builddirs(fs, "/etc/ukfs/demo", 0755) == -1)
        err(1, "builddirs");
    const char text[] = "hello from ukfs\n";
    if (ukfs_create(fs, "/etc/ukfs/demo/hello.txt", 0644) == -1 ||
        ukfs_write(fs, "/etc/ukfs/demo/hello.txt", 0, (uint8_t *)text, sizeof text - 1) == -1)
        err(1, "write");
    if (ukfs_symlink(fs, "demo/hello.txt", "/etc/ukfs/link") == -1)
        err(1, "symlink");

    printf("ukfs demo: a tmpfs of 16 MiB through the NetBSD libukfs C API\n");
    uint8_t buf[4096];
    off_t off = 0;
    int n;
    printf("/etc/ukfs:\n");
    while ((n = ukfs_getdents(fs, "/etc/ukfs", &off, buf, sizeof buf)) > 0) {
        for (int pos = 0; pos < n;) {
            struct ukfs_dirent *d = (struct ukfs_dirent *)(buf + pos);
            struct stat st;
            char path[1100];
            snprintf(path, sizeof path, "/etc/ukfs/%s", d->d_name);
            if (ukfs_lstat(fs, path, &st) == -1)
                err(1, "lstat %s", path);
            printf("  %-10s mode %06o size %5lld ino %llu\n", d->d_name, (unsigned)st.st_mode,
                   (long long)st.st_size, (unsigned long long)d->d_fileno);
            pos += d->d_reclen;
        }
    }
    if (n == -1)
        err(1, "getdents");

    char got[64] = {0};
    ssize_t r = ukfs_read(fs, "/etc/ukfs/link", 0, (uint8_t *)got, sizeof got - 1);
    if (r == -1)
        err(1, "read through the symlink");
    printf("read through /etc/ukfs/link: %s", got);

    if (ukfs_release(fs, 0) == -1)
        err(1, "ukfs_release");
    printf("released cleanly\n");
    return strcmp(got, text) == 0 ? 0 : 1;
}
