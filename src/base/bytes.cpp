// Checked byte views.
#include "base/bytes.hpp"

#include <fmt/format.h>

namespace uk {

Error ByteView::out_of_bounds(std::uint64_t off, std::uint64_t len) const {
    return Error::corrupt(m_name, fmt::format("{} bytes at offset {} reach past its end ({} bytes)",
                                              len, off, size()));
}

}  // namespace uk
