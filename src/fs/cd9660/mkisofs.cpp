// Building an ISO 9660 image (see mkisofs.hpp). Facts: ECMA-119 (8.4 primary and 8.5
// supplementary volume descriptors, 9.1 directory records, 9.3 record order, 9.4 path
// tables); SUSP 1.12 (SP, CE, ER); RRIP 1.12 (PX with serial numbers, PN, SL, NM, TF);
// Joliet (escape sequence "%/E" for UCS-2 level 3).
//
// Layout, in 2048-byte blocks: 16 zero blocks, the descriptors (primary, Joliet, terminator),
// the path tables (L and M for each tree), the primary directories (breadth-first, the order
// of the path table), the Rock Ridge continuation areas, the Joliet directories, then file
// data in the order of a depth-first walk of the source. Everything is computed before the
// first byte is written; then the image is written front to back.
#include "fs/cd9660/mkisofs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include "fs/cd9660/format.hpp"
#include "fs/cd9660/mkisofs_tree.hpp"

namespace uk::cd9660 {

namespace mkiso {
namespace {

constexpr std::uint64_t max_extent_bytes = 0xFFFFF800;  // 4 GiB - 2 KiB: whole blocks
constexpr std::size_t max_record = 254;                 // even (9.1.1)
constexpr std::size_t ce_entry_len = 28;
constexpr std::size_t su_entry_max = 255;
constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
constexpr std::size_t max_path_table_dirs = 65535;  // parent numbers are 16 bits

constexpr std::string_view rrip_id = "RRIP_1991A";
constexpr std::string_view rrip_descriptor =
    "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
constexpr std::string_view rrip_source =
    "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN "
    "PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

// ---- bytes -------------------------------------------------------------------------------

void put8(Bytes& b, unsigned v) { b.push_back(static_cast<std::byte>(v & 0xFF)); }
void le16(Bytes& b, unsigned v) {
    put8(b, v);
    put8(b, v >> 8);
}
void be16(Bytes& b, unsigned v) {
    put8(b, v >> 8);
    put8(b, v);
}
void le32(Bytes& b, std::uint32_t v) {
    for (int i = 0; i < 32; i += 8)
        put8(b, v >> i);
}
void be32(Bytes& b, std::uint32_t v) {
    for (int i = 24; i >= 0; i -= 8)
        put8(b, v >> i);
}
void both16(Bytes& b, unsigned v) {  // 7.2.3
    le16(b, v);
    be16(b, v);
}
void both32(Bytes& b, std::uint32_t v) {  // 7.3.3
    le32(b, v);
    be32(b, v);
}
void put_str(Bytes& b, std::string_view s) {
    for (const char c : s)
        put8(b, static_cast<unsigned char>(c));
}
void set32(Bytes& b, std::size_t at, std::uint32_t v) {  // both-endian, in place
    for (int i = 0; i < 4; ++i) {
        b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
        b[at + 7 - static_cast<std::size_t>(i)] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
    }
}

// 9.1.5: seven bytes, UTC.
void put_time7(Bytes& b, std::int64_t t) {
    tm g{};
    const std::int64_t lo = -2208988800, hi = 5996851199;  // 1900-01-01 .. 2155-12-31
    const time_t tt = static_cast<time_t>(std::clamp(t, lo, hi));
    gmtime_r(&tt, &g);
    put8(b, static_cast<unsigned>(g.tm_year));
    put8(b, static_cast<unsigned>(g.tm_mon + 1));
    put8(b, static_cast<unsigned>(g.tm_mday));
    put8(b, static_cast<unsigned>(g.tm_hour));
    put8(b, static_cast<unsigned>(g.tm_min));
    put8(b, static_cast<unsigned>(g.tm_sec));
    put8(b, 0);
}

// 8.4.26.1: "YYYYMMDDHHMMSScc" and the offset; nullopt: "not specified".
void put_time17(Bytes& b, std::optional<std::int64_t> t) {
    if (!t) {
        put_str(b, "0000000000000000");
        put8(b, 0);
        return;
    }
    tm g{};
    const time_t tt = static_cast<time_t>(std::clamp<std::int64_t>(*t, 0, 253402300799));
    gmtime_r(&tt, &g);
    put_str(b, fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}00", g.tm_year + 1900, g.tm_mon + 1,
                           g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec));
    put8(b, 0);
}

// A fixed-width text field padded with spaces (UCS-2 spaces for Joliet).
void put_field(Bytes& b, std::string_view s, std::size_t width, bool ucs2) {
    const std::size_t start = b.size();
    if (ucs2) {
        for (const char c : s) {
            if (b.size() - start + 2 > width)
                break;
            put8(b, 0);
            put8(b, static_cast<unsigned char>(c));
        }
        while (b.size() - start + 2 <= width) {
            put8(b, 0);
            put8(b, ' ');
        }
    } else {
        put_str(b, s.substr(0, std::min(s.size(), width)));
    }
    while (b.size() - start < width)
        put8(b, ucs2 ? 0 : ' ');
}

// ---- the tree ----------------------------------------------------------------------------

Error host_error(int err, std::string_view what, std::string_view path) {
    return Error::sys(err, fmt::format("mkisofs: {} {}: {}", what, path, std::strerror(err)));
}

class Builder {
public:
    explicit Builder(const BuildOptions& o) : m_opt(o) {}
    Result<void> run(const std::string& source, const std::string& image);

private:
    Result<std::unique_ptr<Node>> scan(std::string path, std::string name, Node* parent,
                                       const struct stat& st);
    void map_attrs(Node& n, const struct stat& st);
    void name_tree(Node& d);
    void su_layout(Su& su, std::vector<Bytes> entries, std::size_t room);
    void build_su(Node& n);
    Result<void> layout();
    Bytes dir_bytes(const Node& d, bool joliet) const;
    Bytes path_table(bool joliet, bool msb) const;
    Bytes descriptor(bool joliet) const;
    Result<void> write(const std::string& image);
    Result<void> write_file_data(int fd, const Node& n);
    std::int64_t clamp(std::int64_t t) const {
        return m_opt.clamp_time ? std::min(t, *m_opt.clamp_time) : t;
    }

    // The output, written front to back; long runs of zeros become holes.
    Result<void> out(std::span<const std::byte> b);
    Result<void> out_zeros(std::uint64_t n);
    Result<void> flush();
    Result<void> pad_block() {
        return out_zeros((sector_size - (m_pos & (sector_size - 1))) & (sector_size - 1));
    }

    const BuildOptions& m_opt;
    std::unique_ptr<Node> m_root;
    std::vector<std::unique_ptr<Node>> m_extra;  // added by relocation
    std::vector<Node*> m_iso_dirs, m_jol_dirs;   // breadth-first: path table order
    std::vector<Node*> m_files;                  // data order (owners only)
    std::map<std::pair<dev_t, ino_t>, Node*> m_links;
    std::uint32_t m_next_serial = 1;
    std::int64_t m_newest = 0;
    std::uint64_t m_ce_bytes = 0;
    std::uint32_t m_pt_size[2] = {0, 0};
    std::uint32_t m_pt_lba[2][2] = {{0, 0}, {0, 0}};  // [joliet][msb]
    std::uint32_t m_ce_lba = 0;
    std::uint64_t m_total = 0;  // blocks

    int m_fd = -1;
    Bytes m_buf;
    std::uint64_t m_pos = 0;     // bytes produced
    std::uint64_t m_flushed = 0; // of which written or skipped
};

// ---- scanning ----------------------------------------------------------------------------

void Builder::map_attrs(Node& n, const struct stat& st) {
    n.mode = st.st_mode & 07777;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    if (m_opt.rational) {
        n.uid = n.gid = 0;
        n.mode |= 0444;
        if ((n.mode & 0111) != 0 || n.is_dir())
            n.mode |= 0111;
        n.mode &= ~0222u;
        if (n.is_dir())
            n.mode &= 0777;
    }
    if (m_opt.uid)
        n.uid = *m_opt.uid;
    if (m_opt.gid)
        n.gid = *m_opt.gid;
    if (m_opt.dir_mode && n.is_dir())
        n.mode = *m_opt.dir_mode & 07777;
    if (m_opt.file_mode && !n.is_dir() && n.type != S_IFLNK)
        n.mode = *m_opt.file_mode & 07777;
    n.mtime = clamp(st.st_mtim.tv_sec);
    m_newest = std::max(m_newest, n.mtime);
}

Result<std::unique_ptr<Node>> Builder::scan(std::string path, std::string name, Node* parent,
                                            const struct stat& st) {
    auto n = std::make_unique<Node>();
    n->name = std::move(name);
    n->path = std::move(path);
    n->parent = parent;
    n->type = st.st_mode & S_IFMT;
    map_attrs(*n, st);
    n->serial = m_next_serial++;
    switch (n->type) {
    case S_IFREG:
        n->size = static_cast<std::uint64_t>(st.st_size);
        break;
    case S_IFLNK: {
        std::string t(static_cast<std::size_t>(std::max<off_t>(st.st_size, 0)) + 256, '\0');
        const ssize_t got = ::readlink(n->path.c_str(), t.data(), t.size());
        if (got < 0)
            return host_error(errno, "readlink", n->path);
        t.resize(static_cast<std::size_t>(got));
        n->target = std::move(t);
        break;
    }
    case S_IFCHR:
    case S_IFBLK:
        n->rdev = st.st_rdev;
        break;
    case S_IFDIR:
    case S_IFIFO:
    case S_IFSOCK:
        break;
    default:
        return Error::sys(EINVAL, fmt::format("mkisofs: {}: unknown file type", n->path));
    }
    if (!n->is_dir() && st.st_nlink > 1) {
        const auto [it, fresh] = m_links.emplace(std::make_pair(st.st_dev, st.st_ino), n.get());
        if (!fresh) {
            n->owner = it->second;
            n->serial = it->second->serial;
            --m_next_serial;
            ++it->second->links;
        }
    }
    if (!n->is_dir())
        return n;

    DIR* d = ::opendir(n->path.c_str());
    if (d == nullptr)
        return host_error(errno, "opendir", n->path);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
        const std::string_view nm = e->d_name;
        if (nm != "." && nm != "..")
            names.emplace_back(nm);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0)
        return host_error(err, "readdir", n->path);
    std::sort(names.begin(), names.end());
    for (std::string& nm : names) {
        std::string p = n->path + "/" + nm;
        struct stat cst {};
        if (::lstat(p.c_str(), &cst) != 0)
            return host_error(errno, "lstat", p);
        if (!m_opt.rock_ridge && !S_ISREG(cst.st_mode) && !S_ISDIR(cst.st_mode))
            continue;  // nothing to show it as without Rock Ridge
        n->children.push_back(UKFS_TRY(scan(std::move(p), std::move(nm), n.get(), cst)));
        if (n->children.back()->is_dir())
            ++n->links;
    }
    ++n->links;  // "." and the entry in the parent, one ".." per subdirectory
    return n;
}

// ---- names and order ---------------------------------------------------------------------

void Builder::name_tree(Node& d) {
    std::set<std::string> iso_taken, jol_taken;
    for (auto& c : d.children) {
        c->iso_parent = &d;
        c->iso_id = iso_identifier(c->name, c->is_dir(), iso_taken);
        c->in_joliet = c->is_dir() || c->is_reg();
        if (m_opt.joliet && c->in_joliet)
            c->jol_id = joliet_identifier(c->name, c->is_dir(), jol_taken);
        d.iso_children.push_back(c.get());
        if (m_opt.joliet && c->in_joliet)
            d.jol_children.push_back(c.get());
    }
    std::sort(d.iso_children.begin(), d.iso_children.end(), iso_less);
    std::sort(d.jol_children.begin(), d.jol_children.end(),
              [](const Node* a, const Node* b) { return a->jol_id < b->jol_id; });
    for (auto& c : d.children)
        if (c->is_dir())
            name_tree(*c);
}

// ---- System Use --------------------------------------------------------------------------

Bytes entry(std::string_view sig, std::size_t body_len) {
    Bytes e;
    put_str(e, sig);
    put8(e, static_cast<unsigned>(4 + body_len));
    put8(e, 1);
    return e;
}

// Split `entries` between the record (`room` bytes) and continuation areas of at most one
// block each, chained by CE entries.
void Builder::su_layout(Su& su, std::vector<Bytes> entries, std::size_t room) {
    Bytes* area = &su.inline_part;
    std::size_t cap = room;
    std::size_t remaining = 0;
    for (const Bytes& e : entries)
        remaining += e.size();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const Bytes& e = entries[i];
        const bool fits_all = area->size() + remaining <= cap;
        if (!fits_all && area->size() + e.size() + ce_entry_len > cap) {
            Bytes ce = entry("CE", 24);
            for (int k = 0; k < 3; ++k)
                both32(ce, 0);  // block, offset, length: set by layout()
            area->insert(area->end(), ce.begin(), ce.end());
            su.areas.emplace_back();
            area = &su.areas.back();
            cap = sector_size;
        }
        area->insert(area->end(), e.begin(), e.end());
        remaining -= e.size();
    }
    // Continuation areas never cross a block.
    for (const Bytes& a : su.areas) {
        const std::uint64_t in = m_ce_bytes & (sector_size - 1);
        if (in + a.size() > sector_size)
            m_ce_bytes += sector_size - in;
        su.area_pos.push_back(m_ce_bytes);
        m_ce_bytes += a.size();
    }
}

Bytes px_entry(const Node& n) {
    Bytes e = entry("PX", 40);
    const std::uint32_t nlink = n.owner ? n.owner->links : n.links;
    both32(e, static_cast<std::uint32_t>(n.type) | n.mode);
    both32(e, nlink);
    both32(e, n.uid);
    both32(e, n.gid);
    both32(e, n.serial);
    return e;
}

// Only the modification time: access and attribute-change times are not part of the content
// (reading the tree changes the one, copying it the other), and the image must not change
// with them.
Bytes tf_entry(const Node& n) {
    Bytes e = entry("TF", 1 + 7);
    put8(e, 0x02);  // MODIFY
    put_time7(e, n.mtime);
    return e;
}

std::vector<Bytes> nm_entries(std::string_view name) {
    std::vector<Bytes> out;
    constexpr std::size_t step = su_entry_max - 5;
    for (std::size_t off = 0; off < name.size(); off += step) {
        const std::string_view part = name.substr(off, step);
        Bytes e = entry("NM", 1 + part.size());
        put8(e, off + step < name.size() ? 1 : 0);  // CONTINUE
        put_str(e, part);
        out.push_back(std::move(e));
    }
    return out;
}

// RRIP 4.1.3: component records (flags, length, content), packed into SL entries.
std::vector<Bytes> sl_entries(std::string_view target) {
    std::vector<Bytes> comps;
    auto flag_only = [&](std::uint8_t flag) { comps.push_back({std::byte{flag}, std::byte{0}}); };
    std::size_t pos = 0;
    if (!target.empty() && target[0] == '/') {
        flag_only(0x08);  // ROOT
        pos = 1;
    }
    while (pos < target.size() || target.empty()) {
        const std::size_t slash = target.find('/', pos);
        const std::size_t end = slash == std::string_view::npos ? target.size() : slash;
        const std::string_view part = target.substr(pos, end - pos);
        if (part.empty() && slash != std::string_view::npos) {
            flag_only(0x08);  // "//" inside: ROOT, as libisofs writes it
        } else if (part == "." || part == "..") {
            flag_only(part == "." ? 0x02 : 0x04);  // CURRENT, PARENT
        } else {
            // A component longer than a record holds continues (flag 1) in the next one.
            constexpr std::size_t piece = su_entry_max - 5 - 2;
            std::size_t off = 0;
            do {
                const std::string_view p = part.substr(off, piece);
                Bytes c;
                put8(c, off + piece < part.size() ? 1 : 0);
                put8(c, static_cast<unsigned>(p.size()));
                put_str(c, p);
                comps.push_back(std::move(c));
                off += piece;
            } while (off < part.size());
        }
        if (slash == std::string_view::npos)
            break;
        pos = slash + 1;
        if (pos == target.size())
            flag_only(0);  // a trailing '/': an empty last component
    }
    std::vector<Bytes> out;
    Bytes body;
    auto emit = [&](bool more) {
        Bytes e = entry("SL", 1 + body.size());
        put8(e, more ? 1 : 0);
        e.insert(e.end(), body.begin(), body.end());
        out.push_back(std::move(e));
        body.clear();
    };
    for (const Bytes& c : comps) {
        if (5 + body.size() + c.size() > su_entry_max)
            emit(true);
        body.insert(body.end(), c.begin(), c.end());
    }
    emit(false);
    return out;
}

void attr_entries(const Node& n, std::vector<Bytes>& out) {
    out.push_back(px_entry(n));
    out.push_back(tf_entry(n));
    if (n.type == S_IFCHR || n.type == S_IFBLK) {
        // As libisofs: the host's dev_t in the low word when it fits (xorriso reads it so,
        // NetBSD and Linux take a zero high word as an old 8:8 number); else major, minor.
        Bytes e = entry("PN", 16);
        const bool fits = n.rdev <= UINT32_MAX;
        both32(e, fits ? 0 : major(n.rdev));
        both32(e, fits ? static_cast<std::uint32_t>(n.rdev) : minor(n.rdev));
        out.push_back(std::move(e));
    }
}

std::size_t record_base(std::size_t id_len) { return 33 + id_len + (id_len % 2 == 0 ? 1 : 0); }

// CL and PL: a block number, set when the directories have theirs.
Bytes link_entry(std::string_view sig, std::uint32_t lba) {
    Bytes e = entry(sig, 8);
    both32(e, lba);
    return e;
}

void Builder::build_su(Node& n) {
    if (!m_opt.rock_ridge)
        return;
    std::vector<Bytes> rec;
    if (n.placeholder_for != nullptr) {
        // CL first, so that it is in the record, where dir_bytes() sets it.
        const Node& moved = *n.placeholder_for;
        rec.push_back(link_entry("CL", 0));
        attr_entries(moved, rec);
        for (Bytes& e : nm_entries(moved.name))
            rec.push_back(std::move(e));
        su_layout(n.su, std::move(rec), max_record - record_base(n.iso_id.size()));
        return;
    }
    attr_entries(n, rec);
    if (n.moved_from != nullptr || n.reloc_dir)
        rec.push_back(entry("RE", 0));
    for (Bytes& e : nm_entries(n.name))
        rec.push_back(std::move(e));
    if (n.type == S_IFLNK)
        for (Bytes& e : sl_entries(n.target))
            rec.push_back(std::move(e));
    if (n.parent != nullptr)
        su_layout(n.su, std::move(rec), max_record - record_base(n.iso_id.size()));
    if (!n.is_dir())
        return;
    std::vector<Bytes> dot;
    if (n.parent == nullptr) {
        Bytes sp = entry("SP", 3);
        put8(sp, 0xBE);
        put8(sp, 0xEF);
        put8(sp, 0);
        dot.push_back(std::move(sp));
    }
    attr_entries(n, dot);
    if (n.reloc_dir)
        dot.push_back(entry("RE", 0));
    if (n.parent == nullptr) {
        Bytes er = entry("ER", 4 + rrip_id.size() + rrip_descriptor.size() + rrip_source.size());
        put8(er, static_cast<unsigned>(rrip_id.size()));
        put8(er, static_cast<unsigned>(rrip_descriptor.size()));
        put8(er, static_cast<unsigned>(rrip_source.size()));
        put8(er, 1);
        put_str(er, rrip_id);
        put_str(er, rrip_descriptor);
        put_str(er, rrip_source);
        dot.push_back(std::move(er));
    }
    su_layout(n.su_dot, std::move(dot), max_record - record_base(1));
    for (Node* c : n.iso_children)
        build_su(*c);
}

// ---- layout ------------------------------------------------------------------------------

std::vector<Node*> breadth_first(Node* root, bool joliet) {
    std::vector<Node*> out{root};
    for (std::size_t i = 0; i < out.size(); ++i)
        for (Node* c : joliet ? out[i]->jol_children : out[i]->iso_children)
            if (c->is_dir())
                out.push_back(c);
    return out;
}

std::uint64_t extents_of(const Node& n) {
    return n.is_reg() && n.size > max_extent_bytes ? (n.size + max_extent_bytes - 1) /
                                                         max_extent_bytes
                                                   : 1;
}

void put_record(Bytes& out, std::string_view id, std::uint32_t lba, std::uint32_t size,
                std::int64_t time, std::uint8_t flags, const Bytes& su) {
    Bytes r;
    put8(r, 0);  // length, below
    put8(r, 0);
    both32(r, lba);
    both32(r, size);
    put_time7(r, time);
    put8(r, flags);
    put8(r, 0);
    put8(r, 0);
    both16(r, 1);
    put8(r, static_cast<unsigned>(id.size()));
    put_str(r, id);
    if (id.size() % 2 == 0)
        put8(r, 0);
    r.insert(r.end(), su.begin(), su.end());
    if (r.size() % 2 != 0)
        put8(r, 0);
    r[0] = static_cast<std::byte>(r.size());
    // Records do not cross blocks (6.8.1.1).
    const std::size_t in = out.size() & (sector_size - 1);
    if (in + r.size() > sector_size)
        out.resize(out.size() + sector_size - in);
    out.insert(out.end(), r.begin(), r.end());
}

Bytes Builder::dir_bytes(const Node& d, bool joliet) const {
    Bytes out;
    const Node* parent = joliet ? d.parent : d.iso_parent;
    const Node& up = parent != nullptr ? *parent : d;
    const bool rr = m_opt.rock_ridge && !joliet;
    const Bytes none;
    auto lba = [&](const Node& n) { return joliet ? n.jol_lba : n.iso_lba; };
    auto size = [&](const Node& n) { return joliet ? n.jol_size : n.iso_size; };
    put_record(out, std::string_view("\0", 1), lba(d), size(d), d.mtime, flag_directory,
               rr ? d.su_dot.inline_part : none);
    Bytes dotdot;  // the parent's attributes; never SP, ER or a continuation
    if (rr) {
        std::vector<Bytes> es;
        attr_entries(up, es);
        if (d.moved_from != nullptr)  // where ".." really leads
            es.push_back(link_entry("PL", d.moved_from->iso_lba));
        for (const Bytes& e : es)
            dotdot.insert(dotdot.end(), e.begin(), e.end());
    }
    put_record(out, std::string_view("\1", 1), lba(up), size(up), up.mtime, flag_directory,
               dotdot);
    for (const Node* c : joliet ? d.jol_children : d.iso_children) {
        const std::string& id = joliet ? c->jol_id : c->iso_id;
        const Bytes& su = rr ? c->su.inline_part : none;
        if (c->placeholder_for != nullptr) {  // an empty file whose CL leads to the directory
            Bytes cl = su;
            if (cl.size() >= 12)
                set32(cl, 4, c->placeholder_for->iso_lba);
            put_record(out, id, 0, 0, c->mtime, 0, cl);
            continue;
        }
        if (c->is_dir()) {
            put_record(out, id, lba(*c), size(*c), c->mtime, flag_directory, su);
            continue;
        }
        const Node& data = c->owner != nullptr ? *c->owner : *c;
        const std::uint64_t parts = extents_of(data);
        std::uint64_t left = data.is_reg() ? data.size : 0;
        for (std::uint64_t i = 0; i < parts; ++i) {
            const std::uint64_t bytes = std::min(left, max_extent_bytes);
            const std::uint64_t at =
                left == 0 ? 0 : data.data_lba + i * (max_extent_bytes >> sector_shift);
            put_record(out, id, static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(bytes),
                       c->mtime, i + 1 < parts ? flag_multi_extent : 0, su);
            left -= bytes;
        }
    }
    out.resize(blocks_for(out.size()) * sector_size);
    return out;
}

Result<void> Builder::layout() {
    name_tree(*m_root);
    if (m_opt.rock_ridge)  // without Rock Ridge nothing could lead to a moved directory
        relocate_deep(*m_root, m_extra, m_next_serial);
    m_iso_dirs = breadth_first(m_root.get(), false);
    if (m_iso_dirs.size() > max_path_table_dirs)
        return Error::sys(EFBIG, fmt::format("mkisofs: {} directories, more than a path table "
                                             "holds ({})",
                                             m_iso_dirs.size(), max_path_table_dirs));
    for (std::size_t i = 0; i < m_iso_dirs.size(); ++i)
        m_iso_dirs[i]->iso_num = static_cast<std::uint16_t>(i + 1);
    if (m_opt.joliet) {
        m_jol_dirs = breadth_first(m_root.get(), true);
        for (std::size_t i = 0; i < m_jol_dirs.size(); ++i)
            m_jol_dirs[i]->jol_num = static_cast<std::uint16_t>(i + 1);
    }
    build_su(*m_root);

    // Sizes first (they do not depend on block numbers), then block numbers.
    for (Node* d : m_iso_dirs)
        d->iso_size = static_cast<std::uint32_t>(dir_bytes(*d, false).size());
    for (Node* d : m_jol_dirs)
        d->jol_size = static_cast<std::uint32_t>(dir_bytes(*d, true).size());
    std::uint64_t next = vd_first_lba + (m_opt.joliet ? 3 : 2);
    for (int j = 0; j < (m_opt.joliet ? 2 : 1); ++j) {
        m_pt_size[j] = static_cast<std::uint32_t>(path_table(j == 1, false).size());
        for (int msb = 0; msb < 2; ++msb) {
            m_pt_lba[j][msb] = static_cast<std::uint32_t>(next);
            next += blocks_for(m_pt_size[j]);
        }
    }
    for (Node* d : m_iso_dirs) {
        d->iso_lba = static_cast<std::uint32_t>(next);
        next += d->iso_size >> sector_shift;
    }
    m_ce_lba = static_cast<std::uint32_t>(next);
    next += blocks_for(m_ce_bytes);
    for (Node* d : m_jol_dirs) {
        d->jol_lba = static_cast<std::uint32_t>(next);
        next += d->jol_size >> sector_shift;
    }
    // File data: owners only, depth-first in source order; empty files point at block 0.
    std::vector<Node*> stack{m_root.get()};
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        for (auto it = n->children.rbegin(); it != n->children.rend(); ++it)
            stack.push_back(it->get());
        if (!n->is_reg() || n->owner != nullptr || n->size == 0)
            continue;
        n->data_lba = next;
        m_files.push_back(n);
        next += blocks_for(n->size);
    }
    if (next > UINT32_MAX)
        return Error::sys(EFBIG, "mkisofs: the image would be larger than 2^32 blocks");
    m_total = next;

    // CE entries now that the continuation region has its place: patch each area's last 28
    // bytes (the CE entry) with where the next area is.
    auto patch = [&](Su& su) {
        Bytes* area = &su.inline_part;
        for (std::size_t i = 0; i < su.areas.size(); ++i) {
            const std::size_t at = area->size() - ce_entry_len;
            const std::uint64_t pos = su.area_pos[i];
            set32(*area, at + 4, static_cast<std::uint32_t>(m_ce_lba + (pos >> sector_shift)));
            set32(*area, at + 12, static_cast<std::uint32_t>(pos & (sector_size - 1)));
            set32(*area, at + 20, static_cast<std::uint32_t>(su.areas[i].size()));
            area = &su.areas[i];
        }
    };
    for (Node* d : m_iso_dirs) {
        patch(d->su_dot);
        for (Node* c : d->iso_children)
            patch(c->su);
    }
    return {};
}

// ---- descriptors and path tables ---------------------------------------------------------

Bytes Builder::path_table(bool joliet, bool msb) const {
    Bytes out;
    for (const Node* d : joliet ? m_jol_dirs : m_iso_dirs) {
        const std::string id = d->parent == nullptr ? std::string(1, '\0')
                                                    : (joliet ? d->jol_id : d->iso_id);
        const Node* above = joliet ? d->parent : d->iso_parent;
        const Node& up = above != nullptr ? *above : *d;
        put8(out, static_cast<unsigned>(id.size()));
        put8(out, 0);
        const std::uint32_t lba = joliet ? d->jol_lba : d->iso_lba;
        const unsigned parent = joliet ? up.jol_num : up.iso_num;
        if (msb) {
            be32(out, lba);
            be16(out, parent);
        } else {
            le32(out, lba);
            le16(out, parent);
        }
        put_str(out, id);
        if (id.size() % 2 != 0)
            put8(out, 0);
    }
    return out;
}

std::string volume_d_characters(std::string_view s) {
    std::string out;
    for (const char c : s.substr(0, std::min<std::size_t>(s.size(), 32))) {
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 'a' && u <= 'z') ? static_cast<char>(u - 'a' + 'A')
               : ((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_') ? c
                                                                                 : '_';
    }
    return out;
}

Bytes Builder::descriptor(bool joliet) const {
    const int j = joliet ? 1 : 0;
    const Node& root = *m_root;
    Bytes v;
    put8(v, joliet ? vd_supplementary : vd_primary);
    put_str(v, "CD001");
    put8(v, 1);
    put8(v, 0);
    put_field(v, "", 32, joliet);  // system identifier
    put_field(v, joliet ? m_opt.volume_id : volume_d_characters(m_opt.volume_id), 32, joliet);
    v.resize(v.size() + 8);
    both32(v, static_cast<std::uint32_t>(m_total));
    if (joliet) {
        put_str(v, "%/E");  // UCS-2 level 3
        v.resize(v.size() + 29);
    } else {
        v.resize(v.size() + 32);
    }
    both16(v, 1);  // volume set size
    both16(v, 1);  // volume sequence number
    both16(v, sector_size);
    both32(v, m_pt_size[j]);
    le32(v, m_pt_lba[j][0]);
    le32(v, 0);
    be32(v, m_pt_lba[j][1]);
    be32(v, 0);
    Bytes rec;
    put_record(rec, std::string_view("\0", 1), joliet ? root.jol_lba : root.iso_lba,
               joliet ? root.jol_size : root.iso_size, root.mtime, flag_directory, {});
    v.insert(v.end(), rec.begin(), rec.end());
    put_field(v, "", 128, joliet);       // volume set
    put_field(v, "", 128, joliet);       // publisher
    put_field(v, "", 128, joliet);       // data preparer
    put_field(v, "UKFS", 128, joliet);   // application
    for (int i = 0; i < 3; ++i)
        put_field(v, "", 37, joliet);    // copyright, abstract, bibliographic files
    const std::int64_t t = m_opt.volume_time ? *m_opt.volume_time : m_newest;
    put_time17(v, t);             // creation
    put_time17(v, t);             // modification
    put_time17(v, std::nullopt);  // expiration
    put_time17(v, t);             // effective
    put8(v, 1);                   // file structure version
    v.resize(sector_size);
    return v;
}

// ---- output ------------------------------------------------------------------------------

Result<void> Builder::flush() {
    std::size_t done = 0;
    while (done < m_buf.size()) {
        const ssize_t n = ::pwrite(m_fd, m_buf.data() + done, m_buf.size() - done,
                                   static_cast<off_t>(m_flushed + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::sys(errno, fmt::format("mkisofs: writing the image: {}",
                                                 std::strerror(errno)));
        }
        done += static_cast<std::size_t>(n);
    }
    m_flushed += m_buf.size();
    m_buf.clear();
    return {};
}

Result<void> Builder::out(std::span<const std::byte> b) {
    m_buf.insert(m_buf.end(), b.begin(), b.end());
    m_pos += b.size();
    if (m_buf.size() >= chunk_bytes)
        UKFS_TRY(flush());
    return {};
}

Result<void> Builder::out_zeros(std::uint64_t n) {
    if (n < 64 * 1024) {
        m_buf.resize(m_buf.size() + static_cast<std::size_t>(n));
        m_pos += n;
        return {};
    }
    UKFS_TRY(flush());  // a hole: the final ftruncate gives the file its size
    m_pos += n;
    m_flushed += n;
    return {};
}

// The file's bytes, read in chunks; holes of a sparse file (SEEK_DATA/SEEK_HOLE) are not
// read but given to out_zeros.
Result<void> Builder::write_file_data(int fd, const Node& n) {
    std::vector<std::byte> chunk(chunk_bytes);
    const std::uint64_t size = n.size;
    bool sparse_aware = true;
    std::uint64_t off = 0;
    while (off < size) {
        std::uint64_t data_end = size;
        if (sparse_aware) {
            const off_t data = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
            if (data < 0 && errno == ENXIO) {
                UKFS_TRY(out_zeros(size - off));  // a hole to the end
                break;
            }
            if (data < 0) {
                sparse_aware = false;  // not supported here: read everything
            } else {
                const std::uint64_t d =
                    std::min<std::uint64_t>(static_cast<std::uint64_t>(data), size);
                UKFS_TRY(out_zeros(d - off));
                off = d;
                const off_t hole = ::lseek(fd, data, SEEK_HOLE);
                if (hole > data)
                    data_end = std::min<std::uint64_t>(static_cast<std::uint64_t>(hole), size);
            }
            if (off >= size)
                break;
        }
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(data_end - off, chunk.size()));
        std::size_t got = 0;
        while (got < want) {
            const ssize_t r = ::pread(fd, chunk.data() + got, want - got,
                                      static_cast<off_t>(off + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return host_error(errno, "read", n.path);
            if (r == 0)
                return Error::sys(EIO, fmt::format("mkisofs: {}: the file shrank while the "
                                                   "image was built",
                                                   n.path));
            got += static_cast<std::size_t>(r);
        }
        UKFS_TRY(out(std::span<const std::byte>(chunk.data(), want)));
        off += want;
    }
    return pad_block();
}

Result<void> Builder::write(const std::string& image) {
    UKFS_TRY(out_zeros(lba_to_byte(vd_first_lba)));
    const Bytes pvd = descriptor(false);
    UKFS_TRY(out(pvd));
    if (m_opt.joliet)
        UKFS_TRY(out(descriptor(true)));
    Bytes term;
    put8(term, vd_terminator);
    put_str(term, "CD001");
    put8(term, 1);
    term.resize(sector_size);
    UKFS_TRY(out(term));
    for (int j = 0; j < (m_opt.joliet ? 2 : 1); ++j)
        for (int msb = 0; msb < 2; ++msb) {
            UKFS_TRY(out(path_table(j == 1, msb == 1)));
            UKFS_TRY(pad_block());
        }
    for (const Node* d : m_iso_dirs)
        UKFS_TRY(out(dir_bytes(*d, false)));
    // Continuation areas, in the order layout() placed them.
    std::vector<std::pair<std::uint64_t, const Bytes*>> areas;
    for (const Node* d : m_iso_dirs) {
        for (std::size_t i = 0; i < d->su_dot.areas.size(); ++i)
            areas.emplace_back(d->su_dot.area_pos[i], &d->su_dot.areas[i]);
        for (const Node* c : d->iso_children)
            for (std::size_t i = 0; i < c->su.areas.size(); ++i)
                areas.emplace_back(c->su.area_pos[i], &c->su.areas[i]);
    }
    std::sort(areas.begin(), areas.end());
    const std::uint64_t ce_start = m_pos;
    for (const auto& [pos, bytes] : areas) {
        UKFS_TRY(out_zeros(ce_start + pos - m_pos));
        UKFS_TRY(out(*bytes));
    }
    UKFS_TRY(pad_block());
    for (const Node* d : m_jol_dirs)
        UKFS_TRY(out(dir_bytes(*d, true)));
    for (const Node* f : m_files) {
        if (m_pos != lba_to_byte(f->data_lba))
            return Error::sys(EIO, fmt::format("mkisofs: internal error: {} at byte {}, "
                                               "planned for block {}",
                                               f->path, m_pos, f->data_lba));
        const int fd = ::open(f->path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return host_error(errno, "open", f->path);
        const Result<void> r = write_file_data(fd, *f);
        ::close(fd);
        UKFS_TRY(r);
    }
    UKFS_TRY(flush());
    if (m_pos != lba_to_byte(m_total))
        return Error::sys(EIO, fmt::format("mkisofs: internal error: {} bytes written, {} "
                                           "blocks planned",
                                           m_pos, m_total));
    if (::ftruncate(m_fd, static_cast<off_t>(m_pos)) != 0)
        return host_error(errno, "ftruncate", image);
    return {};
}

Result<void> Builder::run(const std::string& source, const std::string& image) {
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0)
        return host_error(errno, "stat", source);
    if (!S_ISDIR(st.st_mode))
        return Error::sys(ENOTDIR, fmt::format("mkisofs: {}: not a directory", source));
    m_root = UKFS_TRY(scan(source, "", nullptr, st));
    UKFS_TRY(layout());
    m_fd = ::open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (m_fd < 0)
        return host_error(errno, "create", image);
    const Result<void> r = write(image);
    ::close(m_fd);
    m_fd = -1;
    if (!r)
        ::unlink(image.c_str());
    return r;
}

}  // namespace

// 9.3: by name, then extension, each compared as if padded with spaces; with d-characters
// only, that is the plain byte order of the name and then of the extension.
bool iso_less(const Node* a, const Node* b) {
    auto split = [](const std::string& id) {
        const std::size_t semi = id.find(';');
        const std::string s = id.substr(0, semi);
        const std::size_t dot = s.find('.');
        return dot == std::string::npos ? std::make_pair(s, std::string())
                                        : std::make_pair(s.substr(0, dot), s.substr(dot + 1));
    };
    return split(a->iso_id) < split(b->iso_id);
}

}  // namespace mkiso

Result<void> build_image(const std::string& source_dir, const std::string& image,
                         const BuildOptions& options) {
    mkiso::Builder b(options);
    return b.run(source_dir, image);
}

}  // namespace uk::cd9660
