// The mounted ISO 9660 file system: the chosen tree (Rock Ridge, Joliet or plain ISO 9660),
// the name rules NetBSD's iso_args flags select, the buffer cache (2048-byte blocks over the
// whole image), and loading nodes. Private to the driver.
//
// Inode numbers are NetBSD's: a directory's is the byte address of its "." record (its first
// data block times 2048), anything else's the byte address of its directory record (the first
// one, for a file of several extents). A Rock Ridge directory moved away for depth (CL in the
// parent, RE on the moved entry, PL on its "..") has the number of its own "." record, the same
// whichever entry leads to it, so it is stable and unique; the moved entry itself is hidden.
//
// Locking: nothing here changes after mount; the (shared) operations run concurrently and the
// buffer cache locks internally.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "fs/cd9660/format.hpp"
#include "fs/cd9660/susp.hpp"
#include "fs/cd9660/volume.hpp"
#include "io/cache/buffer_cache.hpp"
#include "vfs/registry.hpp"
#include "vfs/vnode.hpp"

namespace uk::cd9660 {

using vfs::InodeNo;
using vfs::VType;

inline constexpr std::size_t max_extents = 4096;        // records of one multi-extent file
inline constexpr int max_relocation_depth = 1024;       // ".." steps from a moved dir to root

enum class Tree { plain, joliet, rrip };

// What NetBSD's flags make of names (cd9660_vfsops.c/cd9660_util.c isofntrans).
struct NameRules {
    bool keep_version = false;  // ISOFSMNT_GENS without Rock Ridge: names keep ";1"
    bool casetrans = true;      // plain names: upper case becomes lower (not ISOFSMNT_NOCASETRANS)
    bool rr_caseins = false;    // ISOFSMNT_RRCASEINS: Rock Ridge lookups ignore case
};

struct Extent {
    std::uint64_t lba = 0;
    std::uint32_t bytes = 0;
};

// A loaded node: everything getattr, read and readlink need.
struct Node {
    InodeNo ino = 0;
    VType type = VType::reg;
    std::uint32_t mode = 0;  // 07777 bits
    std::uint32_t nlink = 1;
    std::uint32_t uid = 0, gid = 0;
    std::uint64_t size = 0;
    std::uint64_t rdev = 0;
    timespec atime{}, mtime{}, ctime{}, birthtime{};
    std::vector<Extent> extents;  // file data; a directory's single data extent
    std::string symlink;

    std::string what() const;  // "cd9660: node <ino>" for messages
};

// A directory entry as lookup and readdir see it.
struct Entry {
    std::string name;
    InodeNo ino = 0;
    VType type = VType::reg;
    bool hidden = false;  // RE (moved away), a "." or ".." alias, an empty name
};

Result<std::unique_ptr<vfs::FileSystem>> mount_cd9660(const vfs::MountRequest& req);

class IsoFs final : public vfs::FileSystem {
public:
    IsoFs(Descriptors vol, std::unique_ptr<io::BufferCache> cache, Tree tree, NameRules rules,
          std::size_t rr_skip, std::vector<std::byte> root_record);

    InodeNo root() const override { return m_root; }
    Result<std::unique_ptr<vfs::Vnode>> load(InodeNo ino) override;
    Result<void> reclaim(vfs::Vnode&) override { return {}; }
    Result<vfs::StatFs> statfs() override;
    Result<std::vector<vfs::InfoField>> info() override;  // info.cpp
    Result<void> sync() override { return {}; }
    Result<void> unmount() override { return {}; }
    bool read_only() const override { return true; }

    Tree tree() const { return m_tree; }
    const Descriptors& volume() const { return m_vol; }
    io::BufferCache& cache() { return *m_cache; }

    // The node whose inode number is `ino`.
    Result<Node> load_node(InodeNo ino);

    // dir.cpp: directories.
    Result<InodeNo> lookup(const Node& dir, std::string_view name);
    Result<void> readdir(const Node& dir, std::uint64_t cookie, const vfs::DirVisitor& visit);
    // The inode number of a directory's parent ("..": PL under Rock Ridge); the root's is the
    // root.
    Result<InodeNo> parent_of(const Node& dir);

    // data.cpp: file contents.
    Result<std::size_t> read(const Node& node, std::uint64_t offset, std::span<std::byte> dst);

private:
    struct RawRecord;
    // The record at byte address `addr` (it must lie inside one sector), copied out.
    Result<RawRecord> record_at(std::uint64_t addr, std::string_view what);
    Result<RockRidge> rock_ridge(const Record& r, std::string_view where);
    Result<Node> node_from(const RawRecord& raw, InodeNo ino);
    Result<void> add_extents(Node& n, const RawRecord& first);
    Result<Entry> entry_of(const Node& dir, const Record& r, std::uint64_t addr);
    Result<InodeNo> dotdot_of(std::uint64_t dir_lba, std::uint32_t dir_size);
    Result<void> check_relocated(std::uint32_t target_lba, std::string_view where);
    std::string translate(const Record& r) const;
    void remember_parent(InodeNo dir, InodeNo parent);

    // Directories' parents as lookups and listings met them: the fallback for a ".." record
    // that points to its own directory (libisofs 1.5.4 writes Joliet trees so). Bounded.
    static constexpr std::size_t max_parents = std::size_t{1} << 20;
    std::mutex m_parents_lock;  // guards m_parents and m_hints (shared operations add to them)
    std::unordered_map<InodeNo, InodeNo> m_parents;
    // Per directory, the offset of the entry the last lookup found: the next lookup starts
    // there (NetBSD's i_diroff), so a walk in listing order costs one record per lookup.
    std::unordered_map<InodeNo, std::uint64_t> m_hints;
    std::uint64_t hint(InodeNo dir);
    void set_hint(InodeNo dir, std::uint64_t off);

    Descriptors m_vol;
    std::unique_ptr<io::BufferCache> m_cache;
    Tree m_tree;
    NameRules m_rules;
    std::size_t m_rr_skip;
    std::vector<std::byte> m_root_record;
    InodeNo m_root = 0;
};

}  // namespace uk::cd9660
