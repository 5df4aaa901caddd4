// fsu: fs-utils' tools in one binary, over the public C++ API (include/ukfs/ukfs.hpp) only.
// Each subcommand is a function taking the mount and its arguments (args[0] is the command's
// display name, "fsu ls" or "fsu_ls"); errors are printed as the POSIX tools print them and
// recorded in Ctx::status, so that one failing file among many makes the exit status non-zero.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>

#include <fmt/format.h>

#include <ukfs/ukfs.hpp>

namespace fsu {

// A page-aligned buffer for file data. The kernel copies into and out of a misaligned buffer
// several times more slowly, and a 128 KiB std::vector (mapped by malloc) starts 16 bytes
// into a page.
class IoBuffer {
public:
    explicit IoBuffer(std::size_t n)
        : m_data(static_cast<std::byte*>(::operator new (n, std::align_val_t{4096}))), m_size(n) {}
    std::byte* data() const { return m_data.get(); }
    std::size_t size() const { return m_size; }
    std::byte* begin() const { return data(); }
    std::byte* end() const { return data() + m_size; }

private:
    struct Free {
        void operator()(std::byte* p) const { ::operator delete (p, std::align_val_t{4096}); }
    };
    std::unique_ptr<std::byte, Free> m_data;
    std::size_t m_size;
};

struct Ctx {
    Ctx(uk::Mount* m, std::string p, std::string img = {})
        : mnt(m), prog(std::move(p)), image(std::move(img)) {}
    uk::Mount* mnt = nullptr;
    std::string prog;              // what error messages start with: "fsu ls", "fsu_ls"
    std::string image;             // the image as named on the command line (df shows it)
    int status = 0;                // 0, or 1 once anything failed
    bool stdin_is_script = false;  // in `fsu shell` reading commands from stdin

    // "prog: message" on stderr; marks failure.
    template <class... A>
    void warnx(fmt::format_string<A...> f, A&&... a) {
        std::fflush(stdout);
        fmt::print(stderr, "{}: {}\n", prog, fmt::format(f, std::forward<A>(a)...));
        status = 1;
    }
    // "prog: what: strerror" (plus the driver's message when the image is at fault).
    void fail(std::string_view what, const uk::Error& e);
    void fail_errno(std::string_view what, int err);
};

using CmdFn = int (*)(Ctx&, std::vector<std::string>&);

struct Command {
    const char* name;
    CmdFn fn;
    bool writes;        // needs a read-write mount
    bool needs_mount;   // false: runs without an image (none so far but help)
    const char* usage;  // after "fsu NAME [-t TYPE] [-o OPTS] IMAGE "
};

const std::vector<Command>& commands();
const Command* find_command(std::string_view name);

// getopt(3) over a vector of arguments, POSIX style (stops at the first operand). Long options
// are limited to "--json". Returns the operands through `rest`.
class Getopt {
public:
    Getopt(std::vector<std::string>& args, const char* optstring, bool json_allowed = false);
    // The next option letter, 'J' for --json, '?' for an unknown one, -1 at the end.
    int next();
    const char* arg() const { return m_arg; }
    std::vector<std::string> operands() const;

private:
    std::vector<std::string>& m_args;
    std::vector<char*> m_argv;
    std::string m_optstring;
    bool m_json;
    const char* m_arg = nullptr;
};

// Paths inside the image.
std::string join(std::string_view dir, std::string_view name);
std::string base_name(std::string_view path);
std::string dir_name(std::string_view path);
// A name read from a directory that must not be used as one path component.
bool bad_name(std::string_view name);

// ls-style helpers.
std::string mode_string(mode_t mode);
std::string user_name(uid_t uid);
std::string group_name(gid_t gid);
std::optional<uid_t> parse_user(std::string_view s);
std::optional<gid_t> parse_group(std::string_view s);
std::string json_string(std::string_view s);
char type_char(mode_t mode);  // ls -F indicator, 0 for none
const char* type_name(mode_t mode);

// The chflags(2) names of NetBSD.
std::string flags_string(std::uint32_t flags);
bool parse_flags(std::string_view s, std::uint32_t* set, std::uint32_t* clear);

// An octal permission value up to 07777 (mkiso's and populate's mode options).
std::optional<std::uint32_t> parse_octal(const std::string& s);
// "64m", "1g", "4096": bytes, k/m/g/t counting 1024s (as truncate -s); nullopt when malformed
// or beyond 2^64.
std::optional<std::uint64_t> parse_size(const std::string& s);
// A whole number up to `max`, decimal or 0x hexadecimal; nullopt when malformed.
std::optional<std::uint64_t> parse_number(const std::string& s, std::uint64_t max);
// SOURCE_DATE_EPOCH (reproducible builds) in seconds, when set to a whole number.
std::optional<std::int64_t> source_date_epoch();

// Symbolic or octal chmod modes (the POSIX grammar).
std::optional<mode_t> apply_mode(std::string_view spec, mode_t old, bool is_dir);

// Copying (copy.cpp): ecp, cp, write and the host side's safe writer.
int cmd_cp(Ctx&, std::vector<std::string>&);
int cmd_ecp(Ctx&, std::vector<std::string>&);
int cmd_write(Ctx&, std::vector<std::string>&);
// Extract one image file (any type) to a temporary host path for `find -exec`; "" on failure.
std::string extract_temp(Ctx& c, const std::string& path, const std::string& tmpdir);

// Read-side commands (read_cmds.cpp).
int cmd_ls(Ctx&, std::vector<std::string>&);
int cmd_cat(Ctx&, std::vector<std::string>&);
int cmd_stat(Ctx&, std::vector<std::string>&);
int cmd_find(Ctx&, std::vector<std::string>&);
int cmd_du(Ctx&, std::vector<std::string>&);
int cmd_df(Ctx&, std::vector<std::string>&);
int cmd_info(Ctx&, std::vector<std::string>&);  // info.cpp
// Extended attributes (xattr.cpp).
int cmd_getfattr(Ctx&, std::vector<std::string>&);
int cmd_setfattr(Ctx&, std::vector<std::string>&);
int cmd_cmp(Ctx&, std::vector<std::string>&);
int cmd_diff(Ctx&, std::vector<std::string>&);

// Write-side commands (write_cmds.cpp).
int cmd_mkdir(Ctx&, std::vector<std::string>&);
int cmd_rmdir(Ctx&, std::vector<std::string>&);
int cmd_rm(Ctx&, std::vector<std::string>&);
int cmd_mv(Ctx&, std::vector<std::string>&);
int cmd_ln(Ctx&, std::vector<std::string>&);
int cmd_chmod(Ctx&, std::vector<std::string>&);
int cmd_chown(Ctx&, std::vector<std::string>&);
int cmd_chflags(Ctx&, std::vector<std::string>&);
int cmd_touch(Ctx&, std::vector<std::string>&);
int cmd_mknod(Ctx&, std::vector<std::string>&);
int cmd_mkfifo(Ctx&, std::vector<std::string>&);

// Building an ISO 9660 image (mkiso.cpp); runs without a mount.
int cmd_mkiso(Ctx&, std::vector<std::string>&);
extern const char* const mkiso_usage;
// Making and checking a file system (mkfs.cpp); run without a mount.
int cmd_mkfs(Ctx&, std::vector<std::string>&);
int cmd_fsck(Ctx&, std::vector<std::string>&);
extern const char* const mkfs_usage;
extern const char* const fsck_usage;
// Building an image's tree from a host directory (populate.cpp).
int cmd_populate(Ctx&, std::vector<std::string>&);
extern const char* const populate_usage;

// A second image for cp, cmp and diff (-I IMAGE2 [-T TYPE2]); its operands are written 2:PATH.
struct SecondImage {
    std::string image, type;
    std::optional<uk::Mount> mount;
    bool open(Ctx& c, bool writable);
};
std::optional<std::string> second_operand(std::string_view operand);

// An operand naming a host path ("host:PATH"): the path, or nullopt for an image path.
std::optional<std::string> host_operand(std::string_view operand);

}  // namespace fsu
