// fsu mkiso: build an ISO 9660 image (Rock Ridge and Joliet) from a host directory through
// uk::make_iso. Needs no image to mount, so fsu_main runs it before mounting anything.
#include "fsu.hpp"

namespace fsu {

const char* const mkiso_usage =
    "[-r] [-V volid] [--no-rock] [--no-joliet] [--owner U:G] [--file-mode M] [--dir-mode M]\n"
    "           SOURCE_DIR IMAGE   (no mount) build an ISO 9660 image with Rock Ridge and\n"
    "           Joliet from a host directory, byte for byte the same for the same tree\n"
    "           (SOURCE_DATE_EPOCH clamps times). -r: owner 0:0, all readable, no write bits.";

int cmd_mkiso(Ctx& c, std::vector<std::string>& args) {
    uk::IsoOptions o;
    std::vector<std::string> ops;
    auto usage = [&] {
        fmt::print(stderr, "usage: {} {}\n", c.prog, mkiso_usage);
        return 2;
    };
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> const std::string* {
            return i + 1 < args.size() ? &args[++i] : nullptr;
        };
        if (a == "--") {
            ops.insert(ops.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if (a == "-r") {
            o.rational = true;
        } else if (a == "--no-rock") {
            o.rock_ridge = false;
        } else if (a == "--no-joliet") {
            o.joliet = false;
        } else if (a == "-V") {
            const std::string* v = value();
            if (v == nullptr)
                return usage();
            o.volume_id = *v;
        } else if (a == "--owner") {
            const std::string* v = value();
            if (v == nullptr)
                return usage();
            const std::size_t colon = v->find(':');
            const auto u = parse_user(v->substr(0, colon));
            if (!u) {
                c.warnx("{}: unknown user", v->substr(0, colon));
                return 2;
            }
            o.uid = *u;
            if (colon != std::string::npos) {
                const auto g = parse_group(v->substr(colon + 1));
                if (!g) {
                    c.warnx("{}: unknown group", v->substr(colon + 1));
                    return 2;
                }
                o.gid = *g;
            }
        } else if (a == "--file-mode" || a == "--dir-mode") {
            const std::string* v = value();
            const auto m = v != nullptr ? parse_octal(*v) : std::nullopt;
            if (!m) {
                c.warnx("{} needs an octal mode", a);
                return 2;
            }
            (a == "--file-mode" ? o.file_mode : o.dir_mode) = *m;
        } else if (a.size() > 1 && a[0] == '-') {
            c.warnx("unknown option: {}", a);
            return usage();
        } else {
            ops.push_back(a);
        }
    }
    if (ops.size() != 2)
        return usage();
    const auto r = uk::make_iso(ops[0], ops[1], o);
    if (!r) {
        fmt::print(stderr, "{}: {}\n", c.prog, r.error().describe());
        return 1;
    }
    return 0;
}

}  // namespace fsu
