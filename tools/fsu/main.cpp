// fsu: the command line. `fsu CMD [-t TYPE] [-o OPTS] IMAGE[SELECTOR] ARGS...`, also callable as
// fsu_CMD (fs-utils' names), and `fsu shell` running many commands on one mount.
#include "fsu.hpp"
#include "line_editor.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include <ukfs/netbsd.h>

namespace fsu {
namespace {

int cmd_shell_placeholder(Ctx&, std::vector<std::string>&) {
    return 0;
}

const std::vector<Command> command_table = {
    {"ls", cmd_ls, false, true, "[-1ACacdFfgilnoRrSstux] [--json] [file ...]"},
    {"cat", cmd_cat, false, true, "[file ...]"},
    {"stat", cmd_stat, false, true, "[-FLlnqrx] [-f format] [-t timefmt] [--json] file ..."},
    {"find", cmd_find, false, true, "path ... [expression]"},
    {"du", cmd_du, false, true, "[-aHhkLPscx] [-d depth] [file ...]"},
    {"df", cmd_df, false, true, "[-hiPk] [--json]"},
    {"info", cmd_info, false, true, "[--json]   the superblock and geometry"},
    {"getfattr", cmd_getfattr, false, true, "[-dh] [-n name] [-m pattern] [-e en] file ..."},
    {"setfattr", cmd_setfattr, true, true, "[-h] {-n name [-v value] | -x name} file ..."},
    {"cmp", cmd_cmp, false, true, "[-l|-s] [-I image2 [-T type2]] file1 file2"},
    {"diff", cmd_diff, false, true,
     "[-qru] [-U n] [--no-dereference] [-I image2 [-T type2]] file1 file2"},
    {"ecp", cmd_ecp, false, true, "[-DpRa] image-file ... host-target"},
    {"cp", cmd_cp, true, true, "[-aDfpR] [-I image2 [-T type2]] source ... target"},
    {"write", cmd_write, true, true, "[-a] file   (writes standard input into file)"},
    {"mv", cmd_mv, true, true, "[-f] source ... target"},
    {"rm", cmd_rm, true, true, "[-fRrd] file ..."},
    {"rmdir", cmd_rmdir, true, true, "[-p] directory ..."},
    {"mkdir", cmd_mkdir, true, true, "[-p] [-m mode] directory ..."},
    {"ln", cmd_ln, true, true, "[-fs] source ... target"},
    {"chmod", cmd_chmod, true, true, "[-R] [-h] mode file ..."},
    {"chown", cmd_chown, true, true, "[-R] [-h] owner[:group] file ..."},
    {"chflags", cmd_chflags, true, true, "[-R] [-h] flags file ..."},
    {"touch", cmd_touch, true, true,
     "[-acfhm] [-d date | -r file | -t [[CC]YY]MMDDhhmm[.SS]] file ..."},
    {"mknod", cmd_mknod, true, true, "[-m mode] name b|c major minor | name p"},
    {"mkfifo", cmd_mkfifo, true, true, "[-m mode] fifo ..."},
    {"mkiso", cmd_mkiso, false, false, mkiso_usage},
    {"populate", cmd_populate, true, true, populate_usage},
    {"mkfs", cmd_mkfs, false, false, mkfs_usage},
    {"fsck", cmd_fsck, false, false, fsck_usage},
    {"shell", cmd_shell_placeholder, true, true,
     "[-e] [script]  commands from script or stdin on one mount, one per line (words\n"
     "           split and quoted as sh does, # comments); also cd, sync, echo, exit.\n"
     "           -e stops at the first failure. Read-write unless -o ro or the driver\n"
     "           only reads."},
};

void usage(FILE* out) {
    fmt::print(out,
               "usage: fsu COMMAND [-t TYPE] [-o OPTIONS] IMAGE[SELECTOR] [ARGS...]\n"
               "       fsu_COMMAND [-t TYPE] [-o OPTIONS] IMAGE[SELECTOR] [ARGS...]\n"
               "\n"
               "IMAGE is an image file or block device, with an optional partition selector\n"
               "(\"disk.img%GPT:2%\", see docs/partitions.md). A type that needs no image (tmpfs)\n"
               "is given \"-\" as IMAGE: fsu shell -t tmpfs - script.\n"
               "-t TYPE  file system type (ext2fs, tmpfs, ...); detected when not given.\n"
               "-o OPTS  comma-separated: ro, rw, async, cache=BYTES[k|m|g], time=SECONDS (the\n"
               "         time of every write's stamps; default SOURCE_DATE_EPOCH when set),\n"
               "         seed=N (inode generation numbers: reproducible images), and the\n"
               "         type's own (ffs: backup, sb=SECTOR: a backup superblock, read-only).\n"
               "The image is opened read-only unless the command writes.\n"
               "In cp, cmp and diff an operand written host:PATH is a path on the host, and\n"
               "2:PATH a path in the second image named by -I IMAGE2 (type -T TYPE2); cp\n"
               "opens that image read-write when the target is in it.\n"
               "ecp copies image files out to the host: symlinks are recreated, never followed,\n"
               "nothing is written outside the target, names holding '/' are refused, device\n"
               "nodes are made only with -D.\n"
               "\n"
               "Commands:\n");
    for (const Command& c : command_table)
        fmt::print(out, "  {:8} {}\n", c.name, c.usage);
    fmt::print(out,
               "\nExit status: 0 when everything succeeded, 1 when anything failed, 2 for usage\n"
               "errors (cmp and diff: 0 same, 1 different, 2 trouble).\n");
}

struct Global {
    std::string type;
    bool read_only = false, read_write = false, async = false;
    std::size_t cache = std::size_t{64} << 20;
    std::optional<std::int64_t> time;   // -o time=: the clock of every write
    std::optional<std::uint64_t> seed;  // -o seed=: inode generation numbers
    std::vector<std::pair<std::string, std::string>> fs_options;
};

bool parse_mount_options(Ctx& c, std::string_view opts, Global& g) {
    while (!opts.empty()) {
        auto comma = opts.find(',');
        std::string_view o = opts.substr(0, comma);
        opts = comma == std::string_view::npos ? std::string_view{} : opts.substr(comma + 1);
        if (o == "ro" || o == "rdonly") {
            g.read_only = true;
        } else if (o == "rw") {
            g.read_write = true;
        } else if (o == "async") {
            g.async = true;
        } else if (o.starts_with("cache=")) {
            const std::string v(o.substr(6));
            const auto n = parse_size(v);
            if (!n || *n > (std::uint64_t{1} << 40)) {
                c.warnx("bad cache size: {}", v);
                return false;
            }
            g.cache = static_cast<std::size_t>(*n);
        } else if (o.starts_with("time=") || o.starts_with("seed=")) {
            const std::string v(o.substr(5));
            const bool is_time = o.starts_with("time=");
            const auto n = parse_number(v, is_time ? std::uint64_t{INT64_MAX} : UINT64_MAX);
            if (!n) {
                c.warnx("bad {}: {}", is_time ? "time" : "seed", v);
                return false;
            }
            if (is_time)
                g.time = static_cast<std::int64_t>(*n);
            else
                g.seed = *n;
        } else if (!o.empty()) {
            // The type's own (ffs: backup, sb=N): the driver refuses those it does not take.
            const auto eq = o.find('=');
            g.fs_options.emplace_back(std::string(o.substr(0, eq)),
                                      eq == std::string_view::npos ? std::string()
                                                                   : std::string(o.substr(eq + 1)));
        }
    }
    return true;
}

int run_command(Ctx& c, const Command& cmd, std::vector<std::string> args);

// One line of a script split into words: whitespace separates, '...' and "..." quote, a
// backslash escapes, # starts a comment.
bool split_line(const std::string& line, std::vector<std::string>& words) {
    words.clear();
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char ch = line[i];
        if (quote) {
            if (ch == quote) {
                quote = 0;
            } else if (ch == '\\' && quote == '"' && i + 1 < line.size()) {
                cur += line[++i];
            } else {
                cur += ch;
            }
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
            in_word = true;
        } else if (ch == '\\' && i + 1 < line.size()) {
            cur += line[++i];
            in_word = true;
        } else if (ch == ' ' || ch == '\t' || ch == '\r') {
            if (in_word)
                words.push_back(std::move(cur));
            cur.clear();
            in_word = false;
        } else if (ch == '#' && !in_word) {
            break;
        } else {
            cur += ch;
            in_word = true;
        }
    }
    if (quote)
        return false;
    if (in_word)
        words.push_back(std::move(cur));
    return true;
}

int run_shell(Ctx& c, std::vector<std::string>& args, const std::string& display) {
    bool stop_on_error = false;
    Getopt g(args, "e");
    for (int o; (o = g.next()) != -1;) {
        if (o == 'e')
            stop_on_error = true;
        else
            return 2;
    }
    auto ops = g.operands();
    if (ops.size() > 1) {
        fmt::print(stderr, "usage: fsu shell [-t TYPE] [-o OPTS] IMAGE [-e] [script]\n");
        return 2;
    }
    std::ifstream file;
    std::istream* in = &std::cin;
    if (!ops.empty() && ops[0] != "-") {
        file.open(ops[0]);
        if (!file) {
            c.fail_errno(ops[0], errno);
            return 1;
        }
        in = &file;
    }
    std::optional<LineEditor> editor;
    if (in == &std::cin && isatty(0) && isatty(1)) {
        std::vector<std::string> names{"cd", "sync", "echo", "help", "exit", "quit"};
        for (const Command& cmd : command_table)
            if (cmd.needs_mount && std::strcmp(cmd.name, "shell") != 0)
                names.emplace_back(cmd.name);
        editor.emplace(c.mnt, std::move(names));
    }
    int status = 0;
    std::string line;
    std::vector<std::string> words;
    unsigned lineno = 0;
    while (true) {
        if (editor) {
            auto got = editor->read("fsu> ");
            if (!got)
                break;
            line = std::move(*got);
        } else if (!std::getline(*in, line)) {
            break;
        }
        ++lineno;
        if (!split_line(line, words)) {
            fmt::print(stderr, "{}: line {}: unterminated quote\n", display, lineno);
            status = 1;
            if (stop_on_error)
                break;
            continue;
        }
        if (words.empty())
            continue;
        int rc = 0;
        if (words[0] == "exit" || words[0] == "quit") {
            break;
        } else if (words[0] == "cd") {
            std::string to = words.size() > 1 ? words[1] : "/";
            auto r = c.mnt->chdir(to);
            if (!r) {
                Ctx sub{c.mnt, "cd"};
                sub.fail(to, r.error());
                rc = 1;
            }
        } else if (words[0] == "sync") {
            auto r = c.mnt->sync();
            if (!r) {
                Ctx sub{c.mnt, "sync"};
                sub.fail("sync", r.error());
                rc = 1;
            }
        } else if (words[0] == "echo") {
            for (std::size_t i = 1; i < words.size(); ++i)
                fmt::print("{}{}", i > 1 ? " " : "", words[i]);
            fmt::print("\n");
        } else if (words[0] == "help") {
            usage(stdout);
        } else if (const Command* cmd = find_command(words[0]);
                   cmd && std::strcmp(cmd->name, "shell")) {
            if (cmd->writes && c.mnt->read_only() &&
                !(std::strcmp(cmd->name, "cp") == 0 && words.size() > 1 &&
                  (host_operand(words.back()) || second_operand(words.back())))) {
                fmt::print(stderr, "{}: the image is mounted read-only\n", words[0]);
                rc = 1;
            } else {
                Ctx sub{c.mnt, words[0], c.image};
                sub.stdin_is_script = in == &std::cin;
                rc = run_command(sub, *cmd, words);
            }
        } else {
            fmt::print(stderr, "{}: line {}: {}: unknown command\n", display, lineno, words[0]);
            rc = 1;
        }
        std::fflush(stdout);
        if (rc != 0) {
            status = 1;
            if (stop_on_error)
                break;
        }
    }
    return status;
}

int run_command(Ctx& c, const Command& cmd, std::vector<std::string> args) {
    args[0] = c.prog;
    int rc = cmd.fn(c, args);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        fmt::print(stderr, "{}: stdout: {}\n", c.prog, std::strerror(errno));
        return 1;
    }
    return rc != 0 ? rc : c.status;
}

}  // namespace

const std::vector<Command>& commands() {
    return command_table;
}

const Command* find_command(std::string_view name) {
    for (const Command& c : command_table)
        if (name == c.name)
            return &c;
    return nullptr;
}

int fsu_main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    std::string self = base_name(args.empty() ? "fsu" : args[0]);
    std::string cmd_name, display;
    if (self.starts_with("fsu_")) {
        cmd_name = self.substr(4);
        display = self;
        args.erase(args.begin());
    } else {
        if (args.size() < 2) {
            usage(stderr);
            return 2;
        }
        if (args[1] == "-h" || args[1] == "--help" || args[1] == "help") {
            usage(stdout);
            return 0;
        }
        if (args[1] == "--version") {
            fmt::print("fsu (ukfs) 0.1.0\n");
            return 0;
        }
        cmd_name = args[1];
        display = "fsu " + cmd_name;
        args.erase(args.begin(), args.begin() + 2);
    }
    const Command* cmd = find_command(cmd_name);
    Ctx c{nullptr, display};
    if (!cmd) {
        fmt::print(stderr, "fsu: {}: unknown command (fsu --help lists them)\n", cmd_name);
        return 2;
    }
    if (!cmd->needs_mount) {  // mkiso, mkfs, fsck: their own options and operands, no mount
        args.insert(args.begin(), display);
        return run_command(c, *cmd, args);
    }

    // The common options, then the image.
    Global g;
    args.insert(args.begin(), display);
    Getopt opt(args, "t:o:h");
    for (int o; (o = opt.next()) != -1;) {
        switch (o) {
        case 't': g.type = opt.arg(); break;
        case 'o':
            if (!parse_mount_options(c, opt.arg(), g))
                return 2;
            break;
        case 'h':
            fmt::print("usage: {} [-t TYPE] [-o OPTS] IMAGE {}\n", display, cmd->usage);
            return 0;
        default:
            fmt::print(stderr, "usage: {} [-t TYPE] [-o OPTS] IMAGE {}\n", display, cmd->usage);
            return 2;
        }
    }
    std::vector<std::string> rest = opt.operands();
    if (rest.empty()) {
        fmt::print(stderr, "usage: {} [-t TYPE] [-o OPTS] IMAGE {}\n", display, cmd->usage);
        return 2;
    }
    std::string image = rest[0];
    rest.erase(rest.begin());
    if (image == "-" && g.type.empty()) {
        c.warnx("-: no image; give the type of a file system that needs none (-t tmpfs)");
        return 1;
    }

    bool writes = cmd->writes;
    if (std::strcmp(cmd->name, "cp") == 0 && !rest.empty() &&
        (host_operand(rest.back()) || second_operand(rest.back())))
        writes = false;  // to the host or the second image: nothing is written into this one
    uk::MountOptions mo;
    mo.type = g.type;
    mo.cache_bytes = g.cache;
    mo.flags = g.async ? MNT_ASYNC : 0;
    mo.read_only = g.read_only || (!writes && !g.read_write);
    // Reproducible builds: SOURCE_DATE_EPOCH is the clock of the writes unless -o time= is.
    if (!g.time)
        g.time = source_date_epoch();
    if (g.time)
        mo.time = timespec{static_cast<time_t>(*g.time), 0};
    mo.seed = g.seed;
    mo.fs_options = g.fs_options;
    auto mnt = uk::Mount::open(image, mo);
    if (!mnt && std::strcmp(cmd->name, "shell") == 0 && !g.read_write && !mo.read_only &&
        mnt.error().errnum() == EROFS) {
        mo.read_only = true;  // a shell on a driver that only reads: still good for reading
        mnt = uk::Mount::open(image, mo);
    }
    if (!mnt) {
        fmt::print(stderr, "{}: {}: {}\n", display, image, mnt.error().describe());
        return mnt.error().message().starts_with("unknown mount option") ? 2 : 1;
    }
    c.mnt = &*mnt;
    c.image = image;

    rest.insert(rest.begin(), display);
    int rc;
    if (std::strcmp(cmd->name, "shell") == 0) {
        rc = run_shell(c, rest, display);
        std::fflush(stdout);
    } else {
        rc = run_command(c, *cmd, rest);
    }
    if (!mnt->read_only()) {
        auto r = mnt->release();
        if (!r) {
            fmt::print(stderr, "{}: {}: {}\n", display, image, r.error().describe());
            rc = rc ? rc : 1;
        }
    }
    return rc;
}

}  // namespace fsu

int main(int argc, char** argv) {
    return fsu::fsu_main(argc, argv);
}
