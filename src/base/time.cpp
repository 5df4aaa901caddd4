// Time helpers.
#include "base/time.hpp"

namespace uk {

timespec now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

}  // namespace uk
