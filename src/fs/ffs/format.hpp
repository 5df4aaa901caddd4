// The FFS (UFS1 and UFS2) on-disk format: structures named as in NetBSD's sys/ufs/ffs/fs.h,
// sys/ufs/ufs/dinode.h and sys/ufs/ufs/dir.h, constants and flags. Shared by the driver, the
// checker and newfs; nothing here is trusted.
//
// Notes:
// - Either byte order: every multi-byte field is a Raw field read through the Order found when
//   the superblock's magic was matched (NetBSD's `needswap`).
// - Addresses are in fragments ("fs blocks" of fs_fsize bytes). A full block is fs_frag
//   fragments. Cylinder group c starts at fragment cgbase = fs_fpg * c (UFS1 adds the old
//   cylinder offset, see cgstart()); its superblock copy, cg header, inodes and data begin at
//   fs_sblkno, fs_cblkno, fs_iblkno and fs_dblkno fragments from there.
// - Inode i lives in group i / fs_ipg; inode 2 is the root, 0 and 1 are never used by files
//   (1 was the bad-block inode, and is the whiteout inode number).
// - A directory is a sequence of DIRBLKSIZ (512) byte chunks; entries never cross a chunk, and
//   the record lengths of a chunk add up to 512 exactly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/endian.hpp"

namespace uk::ffs {

// Where NetBSD looks for the superblock, in this order (SBLOCKSEARCH): UFS2's place, UFS1's
// place, a floppy's, and "piggy" (a UFS2 made with a 64 KiB boot area).
inline constexpr std::uint64_t sblock_ufs2 = 65536;
inline constexpr std::uint64_t sblock_ufs1 = 8192;
inline constexpr std::uint64_t sblock_floppy = 0;
inline constexpr std::uint64_t sblock_piggy = 262144;
inline constexpr std::uint64_t sblock_search[] = {sblock_ufs2, sblock_ufs1, sblock_floppy,
                                                  sblock_piggy};
inline constexpr std::uint32_t sblock_size = 8192;  // SBLOCKSIZE: bytes read for a superblock

inline constexpr std::uint32_t ufs1_magic = 0x011954;
inline constexpr std::uint32_t ufs2_magic = 0x19540119;
inline constexpr std::uint32_t ufs2ea_magic = 0x19012038;  // UFS2 with extended attributes
inline constexpr std::uint32_t cg_magic = 0x090255;

inline constexpr std::uint32_t min_bsize = 4096;   // MINBSIZE
inline constexpr std::uint32_t max_bsize = 65536;  // MAXBSIZE
inline constexpr std::uint32_t max_frag = 8;       // MAXFRAG: fragments per block
inline constexpr std::uint32_t dev_bsize = 512;    // DEV_BSIZE
inline constexpr std::uint32_t dirblksiz = 512;    // DIRBLKSIZ
inline constexpr std::uint32_t maxnamlen = 255;    // FFS_MAXNAMLEN
inline constexpr std::uint32_t ndaddr = 12;        // UFS_NDADDR: direct blocks
inline constexpr std::uint32_t niaddr = 3;         // UFS_NIADDR: indirect levels
inline constexpr std::uint32_t nxaddr = 2;         // UFS_NXADDR: UFS2 extattr blocks
inline constexpr std::uint32_t maxmntlen = 468;    // MAXMNTLEN
inline constexpr std::uint32_t maxvollen = 32;     // MAXVOLLEN
inline constexpr std::uint32_t fsmaxsnap = 20;     // FSMAXSNAP
inline constexpr std::uint32_t mincylgrps = 4;     // MINCYLGRPS
inline constexpr std::uint32_t fs_maxcontig = 16;  // FS_MAXCONTIG: cluster summary size cap
inline constexpr std::uint32_t wino = 1;           // UFS_WINO: whiteout inode number
inline constexpr std::uint32_t root_ino = 2;       // UFS_ROOTINO
inline constexpr std::int32_t fs_42inodefmt = -1;  // 4.2BSD inodes and directories
inline constexpr std::int32_t fs_44inodefmt = 2;   // 4.4BSD: d_type in entries, fast symlinks

// fs_clean
inline constexpr std::uint8_t fs_isclean = 0x01;
inline constexpr std::uint8_t fs_wasclean = 0x02;

// fs_old_flags (UFS1 kept the flags here until FS_FLAGS_UPDATED moved them to fs_flags).
inline constexpr std::uint8_t fs_flags_updated = 0x80;

// fs_flags
inline constexpr std::uint32_t fs_unclean = 0x001;
inline constexpr std::uint32_t fs_dosoftdep = 0x002;
inline constexpr std::uint32_t fs_needsfsck = 0x004;
inline constexpr std::uint32_t fs_suj = 0x008;  // FreeBSD journaled soft updates
inline constexpr std::uint32_t fs_posix1eacls = 0x010;
inline constexpr std::uint32_t fs_multilabel = 0x020;
inline constexpr std::uint32_t fs_gjournal = 0x040;
inline constexpr std::uint32_t fs_dowapbl = 0x100;   // NetBSD write-ahead physical block log
inline constexpr std::uint32_t fs_doquota2 = 0x200;  // NetBSD in-file-system quotas
inline constexpr std::uint32_t fs_trim = 0x400;
inline constexpr std::uint32_t fs_nfs4acls = 0x800;
inline constexpr std::uint32_t fs_swapped = 0x80000000;  // in-core only: never on disk

// fs_journal_location (WAPBL)
inline constexpr std::uint8_t wapbl_journalloc_none = 0;
inline constexpr std::uint8_t wapbl_journalloc_end_partition = 1;
inline constexpr std::uint8_t wapbl_journalloc_in_filesystem = 2;

// Inode mode (di_mode)
inline constexpr std::uint16_t ifmt = 0170000;
inline constexpr std::uint16_t ififo = 0010000;
inline constexpr std::uint16_t ifchr = 0020000;
inline constexpr std::uint16_t ifdir = 0040000;
inline constexpr std::uint16_t ifblk = 0060000;
inline constexpr std::uint16_t ifreg = 0100000;
inline constexpr std::uint16_t iflnk = 0120000;
inline constexpr std::uint16_t ifsock = 0140000;
inline constexpr std::uint16_t ifwht = 0160000;

// Directory entry types (d_type)
inline constexpr std::uint8_t dt_unknown = 0;
inline constexpr std::uint8_t dt_fifo = 1;
inline constexpr std::uint8_t dt_chr = 2;
inline constexpr std::uint8_t dt_dir = 4;
inline constexpr std::uint8_t dt_blk = 6;
inline constexpr std::uint8_t dt_reg = 8;
inline constexpr std::uint8_t dt_lnk = 10;
inline constexpr std::uint8_t dt_sock = 12;
inline constexpr std::uint8_t dt_wht = 14;

// File flags (di_flags), NetBSD's values: what ukfs_chflags sets.
inline constexpr std::uint32_t uf_nodump = 0x00000001;
inline constexpr std::uint32_t uf_immutable = 0x00000002;
inline constexpr std::uint32_t uf_append = 0x00000004;
inline constexpr std::uint32_t uf_opaque = 0x00000008;
inline constexpr std::uint32_t sf_archived = 0x00010000;
inline constexpr std::uint32_t sf_immutable = 0x00020000;
inline constexpr std::uint32_t sf_append = 0x00040000;
inline constexpr std::uint32_t sf_snapshot = 0x00200000;
inline constexpr std::uint32_t sf_log = 0x00400000;        // NetBSD: the in-file-system WAPBL log
inline constexpr std::uint32_t sf_snapinval = 0x00800000;  // a snapshot found invalid
// A snapshot's block pointers may hold these markers instead of addresses: the block was
// not copied (it is unchanged since the snapshot), or it belongs to a snapshot.
inline constexpr std::uint64_t blk_nocopy = 1;
inline constexpr std::uint64_t blk_snap = 2;

// struct csum: one cylinder group's summary, in the summary area (fs_csaddr) and in its cg.
struct Csum {
    Raw32 cs_ndir;
    Raw32 cs_nbfree;
    Raw32 cs_nifree;
    Raw32 cs_nffree;
};
static_assert(sizeof(Csum) == 16);

// struct csum_total: the whole file system's summary (in the superblock).
struct CsumTotal {
    Raw64 cs_ndir;
    Raw64 cs_nbfree;
    Raw64 cs_nifree;
    Raw64 cs_nffree;
    Raw64 cs_spare[4];
};
static_assert(sizeof(CsumTotal) == 64);

// struct fs: the superblock. 1376 bytes; UFS1 file systems keep their rotational tables after
// it (fs_old_postbloff), inside the sblock_size bytes read.
struct Superblock {
    Raw32 fs_firstfield;
    Raw32 fs_unused_1;
    Raw32 fs_sblkno;  // fragment offset of the superblock copy in each cg
    Raw32 fs_cblkno;  // ... of the cg header
    Raw32 fs_iblkno;  // ... of the inode blocks
    Raw32 fs_dblkno;  // ... of the first data fragment after the inodes
    Raw32 fs_old_cgoffset;
    Raw32 fs_old_cgmask;
    Raw32 fs_old_time;
    Raw32 fs_old_size;
    Raw32 fs_old_dsize;
    Raw32 fs_ncg;
    Raw32 fs_bsize;
    Raw32 fs_fsize;
    Raw32 fs_frag;
    Raw32 fs_minfree;
    Raw32 fs_old_rotdelay;
    Raw32 fs_old_rps;
    Raw32 fs_bmask;
    Raw32 fs_fmask;
    Raw32 fs_bshift;
    Raw32 fs_fshift;
    Raw32 fs_maxcontig;
    Raw32 fs_maxbpg;
    Raw32 fs_fragshift;
    Raw32 fs_fsbtodb;
    Raw32 fs_sbsize;
    Raw32 fs_spare1[2];  // old fs_csmask, fs_csshift
    Raw32 fs_nindir;
    Raw32 fs_inopb;
    Raw32 fs_old_nspf;
    Raw32 fs_optim;
    Raw32 fs_old_npsect;
    Raw32 fs_old_interleave;
    Raw32 fs_old_trackskew;
    Raw32 fs_id[2];
    Raw32 fs_old_csaddr;
    Raw32 fs_cssize;
    Raw32 fs_cgsize;
    Raw32 fs_spare2;  // old fs_ntrak
    Raw32 fs_old_nsect;
    Raw32 fs_old_spc;
    Raw32 fs_old_ncyl;
    Raw32 fs_old_cpg;
    Raw32 fs_ipg;
    Raw32 fs_fpg;
    Csum fs_old_cstotal;
    std::uint8_t fs_fmod;
    std::uint8_t fs_clean;
    std::uint8_t fs_ronly;
    std::uint8_t fs_old_flags;
    std::uint8_t fs_fsmnt[maxmntlen];
    std::uint8_t fs_volname[maxvollen];
    Raw64 fs_swuid;
    Raw32 fs_pad;
    Raw32 fs_cgrotor;
    std::uint8_t fs_incore[128];  // in-core pointers (fs_ocsp, fs_csp...): meaningless on disk
    Raw32 fs_old_cpc;
    Raw32 fs_maxbsize;
    std::uint8_t fs_journal_version;
    std::uint8_t fs_journal_location;
    std::uint8_t fs_journal_reserved[2];
    Raw32 fs_journal_flags;
    Raw64 fs_journallocs[4];
    Raw32 fs_quota_magic;
    std::uint8_t fs_quota_flags;
    std::uint8_t fs_quota_reserved[3];
    Raw64 fs_quotafile[2];
    Raw64 fs_sparecon64[9];
    Raw64 fs_sblockloc;  // byte offset of the standard superblock
    CsumTotal fs_cstotal;
    Raw64 fs_time;
    Raw64 fs_size;   // fragments in the file system
    Raw64 fs_dsize;  // data fragments
    Raw64 fs_csaddr;
    Raw64 fs_pendingblocks;
    Raw32 fs_pendinginodes;
    Raw32 fs_snapinum[fsmaxsnap];
    Raw32 fs_avgfilesize;
    Raw32 fs_avgfpdir;
    Raw32 fs_save_cgsize;
    Raw32 fs_sparecon32[26];
    Raw32 fs_flags;
    Raw32 fs_contigsumsize;
    Raw32 fs_maxsymlinklen;
    Raw32 fs_old_inodefmt;
    Raw64 fs_maxfilesize;
    Raw64 fs_qbmask;
    Raw64 fs_qfmask;
    Raw32 fs_state;
    Raw32 fs_old_postblformat;
    Raw32 fs_old_nrpos;
    Raw32 fs_spare5[2];  // old fs_postbloff, fs_rotbloff
    Raw32 fs_magic;
};
static_assert(sizeof(Superblock) == 1376);
static_assert(offsetof(Superblock, fs_fsmnt) == 212);
static_assert(offsetof(Superblock, fs_sblockloc) == 1000);
static_assert(offsetof(Superblock, fs_cstotal) == 1008);
static_assert(offsetof(Superblock, fs_flags) == 1312);
static_assert(offsetof(Superblock, fs_magic) == 1372);

// struct cg: a cylinder group header; the maps follow at the offsets it names, all within
// fs_cgsize bytes.
struct CylinderGroup {
    Raw32 cg_firstfield;
    Raw32 cg_magic;
    Raw32 cg_old_time;
    Raw32 cg_cgx;
    Raw16 cg_old_ncyl;
    Raw16 cg_old_niblk;
    Raw32 cg_ndblk;
    Csum cg_cs;
    Raw32 cg_rotor;
    Raw32 cg_frotor;
    Raw32 cg_irotor;
    Raw32 cg_frsum[max_frag];  // counts of free runs of 1..frag-1 fragments
    Raw32 cg_old_btotoff;      // (int32) UFS1 block totals per cylinder
    Raw32 cg_old_boff;         // (uint16) UFS1 free block positions
    Raw32 cg_iusedoff;         // (uint8) used inode map
    Raw32 cg_freeoff;          // (uint8) free fragment map
    Raw32 cg_nextfreeoff;      // (uint8) the end of the maps
    Raw32 cg_clustersumoff;    // (uint32) counts of free clusters by length
    Raw32 cg_clusteroff;       // (uint8) free cluster (block) map
    Raw32 cg_nclusterblks;
    Raw32 cg_niblk;       // inode blocks of this cg (UFS2: inodes, despite the name)
    Raw32 cg_initediblk;  // UFS2: inodes initialised so far (lazy inode table)
    Raw32 cg_sparecon32[2];
    Raw32 cg_ckhash;
    Raw64 cg_time;
    Raw64 cg_sparecon64[3];
};
static_assert(sizeof(CylinderGroup) == 168);

// struct ufs1_dinode: 128 bytes. A device's number is in di_db[0]; a fast symlink's target
// fills di_db and di_ib (up to fs_maxsymlinklen bytes).
struct Dinode1 {
    Raw16 di_mode;
    Raw16 di_nlink;
    Raw32 di_oldids;  // old 16-bit uid/gid (di_inumber for some)
    Raw64 di_size;
    Raw32 di_atime;
    Raw32 di_atimensec;
    Raw32 di_mtime;
    Raw32 di_mtimensec;
    Raw32 di_ctime;
    Raw32 di_ctimensec;
    Raw32 di_db[ndaddr];
    Raw32 di_ib[niaddr];
    Raw32 di_flags;
    Raw32 di_blocks;  // DEV_BSIZE sectors held
    Raw32 di_gen;
    Raw32 di_uid;
    Raw32 di_gid;
    Raw64 di_modrev;
};
static_assert(sizeof(Dinode1) == 128);
static_assert(offsetof(Dinode1, di_db) == 40);

// struct ufs2_dinode: 256 bytes, with birth time and nanoseconds, 64-bit block pointers.
struct Dinode2 {
    Raw16 di_mode;
    Raw16 di_nlink;
    Raw32 di_uid;
    Raw32 di_gid;
    Raw32 di_blksize;
    Raw64 di_size;
    Raw64 di_blocks;  // DEV_BSIZE sectors held
    Raw64 di_atime;
    Raw64 di_mtime;
    Raw64 di_ctime;
    Raw64 di_birthtime;
    Raw32 di_mtimensec;
    Raw32 di_atimensec;
    Raw32 di_ctimensec;
    Raw32 di_birthnsec;
    Raw32 di_gen;
    Raw32 di_kernflags;
    Raw32 di_flags;
    Raw32 di_extsize;
    Raw64 di_extb[nxaddr];
    Raw64 di_db[ndaddr];
    Raw64 di_ib[niaddr];
    Raw64 di_modrev;
    Raw64 di_spare[2];
};
static_assert(sizeof(Dinode2) == 256);
static_assert(offsetof(Dinode2, di_db) == 112);

// struct direct's fixed part; d_namlen bytes of name follow, NUL-terminated and padded to a
// multiple of 4. In the 4.2BSD format (fs_old_inodefmt < FS_44INODEFMT) d_type and d_namlen
// together are one 16-bit name length.
struct DirectHeader {
    Raw32 d_ino;
    Raw16 d_reclen;
    std::uint8_t d_type;
    std::uint8_t d_namlen;
};
static_assert(sizeof(DirectHeader) == 8);

// The record length an entry with a name of `namlen` bytes needs (UFS_DIRSIZ).
constexpr std::uint32_t dirsiz(std::uint32_t namlen) {
    return (sizeof(DirectHeader) + namlen + 1 + 3) & ~std::uint32_t{3};
}

// NetBSD's dev_t packing of a device node's major and minor (makedev, major, minor).
constexpr std::uint32_t netbsd_makedev(std::uint32_t major, std::uint32_t minor) {
    return ((major << 8) & 0x000fff00u) | ((minor << 12) & 0xfff00000u) | (minor & 0x000000ffu);
}
constexpr std::uint32_t netbsd_major(std::uint32_t dev) {
    return (dev & 0x000fff00u) >> 8;
}
constexpr std::uint32_t netbsd_minor(std::uint32_t dev) {
    return ((dev & 0xfff00000u) >> 12) | (dev & 0x000000ffu);
}

}  // namespace uk::ffs
