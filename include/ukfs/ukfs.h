/*
 * ukfs: file system images, opened from user space.
 *
 * The C interface of NetBSD's libukfs (ukfs.h revision 1.15): the same functions, signatures,
 * flags and errno behaviour, so that a program written for NetBSD's libukfs builds unchanged.
 * Functions return -1 (or NULL) and set errno on failure, as NetBSD's do. Where NetBSD's
 * behaviour differs from ours, the function's comment says how and why.
 */
#ifndef UKFS_UKFS_H
#define UKFS_UKFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ukfs/netbsd.h>

#ifdef __cplusplus
extern "C" {
#endif

struct stat;
struct timeval;
struct mount;
struct vnode;

struct ukfs;
struct ukfs_dircookie;
struct ukfs_part;

#define UKFS_DEFAULTMP "/ukfs"

#define UKFS_RELFLAG_NOUNMOUNT 0x01
#define UKFS_RELFLAG_FORCE 0x02

#define UKFS_VERSION 002
#define ukfs_init() _ukfs_init(UKFS_VERSION)

/* Initialise the library; fails with EPROGMISMATCH (ENOTSUP on Linux) on a version mismatch. */
int _ukfs_init(int version);

/*
 * Mount `devpath` (an image file or block device, with an optional partition selector at its
 * end) as file system `vfsname` ("ffs", "ext2fs", "msdos", "cd9660", "tmpfs", "mfs").
 * `mountpath` is kept for compatibility (UKFS_DEFAULTMP); `mntflags` takes MNT_* flags;
 * `arg`/`alen` the type's mount argument structure, or NULL for defaults. ffs, mfs, tmpfs and
 * cd9660 refuse an `arg` with an `alen` shorter than their structure (EINVAL), as NetBSD's do.
 */
struct ukfs *ukfs_mount(const char *vfsname, const char *devpath, const char *mountpath,
                        int mntflags, void *arg, size_t alen);
struct ukfs *ukfs_mount_disk(const char *vfsname, const char *devpath, struct ukfs_part *part,
                             const char *mountpath, int mntflags, void *arg, size_t alen);
int ukfs_release(struct ukfs *fs, int flags);

/* Directories. */
int ukfs_opendir(struct ukfs *fs, const char *dirname, struct ukfs_dircookie **cookie);
int ukfs_getdents(struct ukfs *fs, const char *dirname, off_t *off, uint8_t *buf, size_t bufsize);
int ukfs_getdents_cookie(struct ukfs *fs, struct ukfs_dircookie *cookie, off_t *off, uint8_t *buf,
                         size_t bufsize);
int ukfs_closedir(struct ukfs *fs, struct ukfs_dircookie *cookie);

/* Files. Descriptors from ukfs_open stay valid until ukfs_close (NetBSD's did not). */
int ukfs_open(struct ukfs *fs, const char *filename, int flags);
ssize_t ukfs_read(struct ukfs *fs, const char *filename, off_t off, uint8_t *buf, size_t bufsize);
ssize_t ukfs_read_fd(struct ukfs *fs, int fd, off_t off, uint8_t *buf, size_t bufsize);
/* Writes into an existing file (it is not created), opened O_WRONLY, and syncs it, as NetBSD's
 * does: an append-only file refuses it (EPERM); append through ukfs_open(O_APPEND). */
ssize_t ukfs_write(struct ukfs *fs, const char *filename, off_t off, uint8_t *buf, size_t bufsize);
ssize_t ukfs_write_fd(struct ukfs *fs, int fd, off_t off, uint8_t *buf, size_t bufsize, int dosync);
int ukfs_close(struct ukfs *fs, int fd);

/* Does not NUL-terminate, as readlink(2). */
ssize_t ukfs_readlink(struct ukfs *fs, const char *filename, char *linkbuf, size_t buflen);

/* Creates the file if it does not exist; an existing file is not truncated. */
int ukfs_create(struct ukfs *fs, const char *filename, mode_t mode);
int ukfs_mkdir(struct ukfs *fs, const char *filename, mode_t mode);
int ukfs_mknod(struct ukfs *fs, const char *filename, mode_t mode, dev_t dev);
int ukfs_mkfifo(struct ukfs *fs, const char *filename, mode_t mode);
int ukfs_symlink(struct ukfs *fs, const char *filename, const char *linkname);

int ukfs_remove(struct ukfs *fs, const char *filename);
int ukfs_rmdir(struct ukfs *fs, const char *filename);

int ukfs_link(struct ukfs *fs, const char *filename, const char *f_create);
int ukfs_rename(struct ukfs *fs, const char *from, const char *to);

int ukfs_chdir(struct ukfs *fs, const char *path);

int ukfs_stat(struct ukfs *fs, const char *filename, struct stat *file_stat);
int ukfs_lstat(struct ukfs *fs, const char *filename, struct stat *file_stat);

int ukfs_chmod(struct ukfs *fs, const char *filename, mode_t mode);
int ukfs_lchmod(struct ukfs *fs, const char *filename, mode_t mode);
int ukfs_chown(struct ukfs *fs, const char *filename, uid_t uid, gid_t gid);
int ukfs_lchown(struct ukfs *fs, const char *filename, uid_t uid, gid_t gid);
int ukfs_chflags(struct ukfs *fs, const char *filename, u_long flags);
int ukfs_lchflags(struct ukfs *fs, const char *filename, u_long flags);

/* tptr[0] is the access time, tptr[1] the modification time; NULL means now. */
int ukfs_utimes(struct ukfs *fs, const char *filename, const struct timeval *tptr);
int ukfs_lutimes(struct ukfs *fs, const char *filename, const struct timeval *tptr);

/* Opaque handles to the mount and its root directory (NetBSD's struct mount and vnode). */
struct mount *ukfs_getmp(struct ukfs *fs);
struct vnode *ukfs_getrvp(struct ukfs *fs);
void ukfs_setspecific(struct ukfs *fs, void *priv);
void *ukfs_getspecific(struct ukfs *fs);

/*
 * Partitions: a selector at the end of the device path picks a part of the device.
 *   %DISKLABEL:x%            BSD disklabel partition x (a-v)
 *   %OFFSET:start,size%      bytes; size 0 or missing means "to the end" (see docs)
 *   %MBR:n%  %GPT:n%  %GPT:name=label%    beyond NetBSD: MBR and GPT partitions
 */
extern struct ukfs_part *ukfs_part_none;
extern struct ukfs_part *ukfs_part_na;
#define UKFS_PARTITION_SCANMAGIC "%PART:" /* deprecated: refused with ENODEV */

#define UKFS_DISKLABEL_SCANMAGIC "%DISKLABEL:"
#define UKFS_DISKLABEL_MAGICLEN (sizeof(UKFS_DISKLABEL_SCANMAGIC "a%") - 1)

#define UKFS_OFFSET_SCANMAGIC "%OFFSET:"
#define UKFS_OFFSET_MINLEN (sizeof(UKFS_OFFSET_SCANMAGIC "512,512%") - 1)

#define UKFS_DEVICE_MAXSTR 128
#define UKFS_DEVICE_MAXPATHLEN (4096 + UKFS_DEVICE_MAXSTR)

#define UKFS_DEVICE_ARGVPROBE(part)                                                                \
    do {                                                                                           \
        if (argc < 3)                                                                              \
            *part = NULL;                                                                          \
        else if (ukfs_part_probe(argv[argc - 2], part) == -1)                                      \
            err(1, "ukfs_part_probe");                                                             \
    } while (0)

/* Find a selector at the end of `devpath`, cut it off (the string is changed) and return it. */
int ukfs_part_probe(char *devpath, struct ukfs_part **part);
void ukfs_part_release(struct ukfs_part *part);
int ukfs_part_tostring(struct ukfs_part *part, char *str, size_t strsize);

/* Driver modules: shared objects that register file system types. */
int ukfs_modload(const char *fname);
int ukfs_modload_dir(const char *dir);
ssize_t ukfs_vfstypes(char *buf, size_t buflen);

/*
 * Beyond NetBSD: the message of the calling thread's last failed call (the structure at fault
 * in a bad image, the holder of a lock...), or "" when it had none. Valid until the next call.
 */
const char *ukfs_errmsg(void);

/* Make every directory of `pathname` that does not exist (mkdir -p). */
int ukfs_util_builddirs(struct ukfs *fs, const char *pathname, mode_t mode);

#ifdef __cplusplus
}
#endif

#endif /* UKFS_UKFS_H */
