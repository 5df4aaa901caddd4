// Time helpers.
#include "base/time.hpp"

namespace uk {

timespec now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

std::string format_utc(std::int64_t seconds) {
    if (seconds == 0)
        return "-";
    const time_t t = static_cast<time_t>(seconds);
    tm parts{};
    char buf[64];
    if (gmtime_r(&t, &parts) == nullptr ||
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0)
        return std::to_string(seconds);
    return buf;
}

}  // namespace uk
