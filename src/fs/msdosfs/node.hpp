// The msdos vnode: one directory entry (or the root) with its cluster chain, and the
// directory and file code the vnode operations use. Private to the driver.
//
// The vnode keeps a copy of its short entry and writes it back to the entry's sector whenever
// it changes, so the vnode is the one up-to-date view of the node (the VFS keeps one vnode per
// number). The cluster list is built on first use and kept in step with every change; shared
// operations build it under m_chain_lock.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fs/msdosfs/fs.hpp"

namespace uk::msdosfs {

class MsdosNode final : public vfs::Vnode {
public:
    // The root (loc 0, no entry) or the node whose short entry `raw` lies at byte `loc`.
    MsdosNode(Msdosfs& fs, InodeNo ino, std::uint64_t loc, const DirEntryRaw& raw);
    MsdosNode(const MsdosNode&) = delete;
    MsdosNode& operator=(const MsdosNode&) = delete;
    // A short-lived node that reads a directory by its cluster alone (for ".."): its chain
    // is not registered against cross-links, since the directory's own node may hold it.
    void untracked() { m_tracked = false; }

    InodeNo ino() const override { return m_ino; }
    VType type() const override { return m_type; }

    Result<vfs::Attr> getattr() override;
    Result<void> setattr(const vfs::SetAttr& changes) override;

    Result<InodeNo> lookup(std::string_view name) override;
    Result<void> readdir(std::uint64_t cookie, const vfs::DirVisitor& visit) override;
    Result<InodeNo> create(std::string_view name, const vfs::NewNode& spec) override;
    Result<InodeNo> symlink(std::string_view name, std::string_view target,
                            const vfs::NewNode& spec) override;
    Result<void> link(std::string_view name, vfs::Vnode& target) override;
    Result<void> remove(std::string_view name, vfs::Vnode& child) override;
    Result<void> rmdir(std::string_view name, vfs::Vnode& child) override;
    Result<void> rename(std::string_view name, vfs::Vnode& child, vfs::Vnode& to_dir,
                        std::string_view to_name, vfs::Vnode* replaced) override;

    Result<std::size_t> read(std::uint64_t offset, std::span<std::byte> dst) override;
    Result<std::size_t> write(std::uint64_t offset, std::span<const std::byte> src) override;
    Result<std::string> readlink() override { return Error::sys(EINVAL); }

    bool is_root() const { return m_loc == 0; }
    bool fixed_root() const { return is_root() && m_fs.geometry().type != FatType::fat32; }
    std::uint32_t first_cluster() const;
    std::uint64_t loc() const { return m_loc; }
    std::string what() const;
    // Free the node's clusters (after the VFS let go of an unlinked node).
    Result<void> release();

    // dir.cpp: directory contents.
    // The directory's sectors in order (bounded by max_dir_entries).
    Result<std::vector<std::uint64_t>> dir_sectors();
    // Every live entry from slot `start`; `visit` returns false to stop.
    Result<void> scan(std::uint32_t start, const std::function<bool(const EntryInfo&)>& visit);
    Result<std::optional<EntryInfo>> find(std::string_view name);
    Result<bool> is_empty_dir();

private:
    friend class Msdosfs;
    // file.cpp
    // The cluster list, loaded and registered against cross-links (Msdosfs::claim_chain) on
    // first use; EIO from then on if a cross-link is found at its end.
    Result<const std::vector<std::uint32_t>*> clusters();
    // After a change to m_chain (m_chain_lock held): register its new end.
    Result<void> reclaim_chain();
    Result<void> resize(std::uint64_t size);
    Result<void> write_zeros(std::uint64_t from, std::uint64_t to);
    Result<void> write_bytes(std::uint64_t offset, std::span<const std::byte> src);
    Result<void> grow_chain(std::uint64_t bytes);
    Result<void> store_entry();
    void set_first_cluster(std::uint32_t c);
    void touch_mtime();

    // dir.cpp: changes.
    Result<EntryInfo> add_entry(std::string_view name, DirEntryRaw raw);
    Result<void> remove_slots(const EntryInfo& e);
    Result<void> extend_dir();
    Result<void> set_dotdot(std::uint32_t parent_cluster);

    Msdosfs& m_fs;
    const InodeNo m_ino;
    const VType m_type;
    std::uint64_t m_loc;  // byte offset of the short entry; 0: the root
    DirEntryRaw m_raw;
    bool m_unlinked = false;
    bool m_tracked = true;
    std::mutex m_chain_lock;  // guards m_chain and m_chain_loaded
    bool m_chain_loaded = false;
    std::vector<std::uint32_t> m_chain;
};

// names.cpp
// The entries a name needs: the short 11-byte name and its case bits, and whether long-name
// entries must go with it. EINVAL for a name FAT cannot hold.
struct NamePlan {
    std::uint8_t short_name[11]{};
    std::uint8_t ntres = 0;
    bool needs_lfn = false;
    std::u16string long_name;
};
Result<NamePlan> plan_name(std::string_view name, bool shortname_only,
                           const std::function<bool(const std::uint8_t (&)[11])>& taken);
// "NAME.EXT" for display, with the NT case bits applied.
std::string display_short_name(const DirEntryRaw& raw);
// UTF-16 -> UTF-8 (false on an unpaired surrogate); UTF-8 -> UTF-16 (false when invalid).
bool utf16_to_utf8(const std::u16string& in, std::string& out);
bool utf8_to_utf16(std::string_view in, std::u16string& out);
// Case-insensitive equality as FAT names compare (ASCII letters fold).
bool names_equal(std::string_view a, std::string_view b);

}  // namespace uk::msdosfs
