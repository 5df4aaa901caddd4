// Time helpers: the current time and conversions between timespec and timeval.
#pragma once

#include <ctime>
#include <sys/time.h>

namespace uk {

timespec now();
inline timespec to_timespec(const timeval& tv) {
    return {tv.tv_sec, static_cast<long>(tv.tv_usec) * 1000};
}
inline bool operator==(const timespec& a, const timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

}  // namespace uk
