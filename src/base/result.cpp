// Error formatting.
#include "base/result.hpp"

#include <cstring>

namespace uk {

Error Error::corrupt(std::string_view where, std::string_view what) {
    std::string m;
    m.reserve(where.size() + what.size() + 2);
    m.append(where).append(": ").append(what);
    return {EIO, std::move(m)};
}

std::string Error::describe() const {
    std::string s = m_message;
    if (!s.empty())
        s += " (";
    s += std::strerror(m_errnum);
    if (!m_message.empty())
        s += ")";
    return s;
}

Error& Error::context(std::string_view prefix) {
    m_message.insert(0, prefix);
    return *this;
}

}  // namespace uk
