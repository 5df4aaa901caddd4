// Result<T> and Error are part of the public C++ API; this keeps the internal spelling.
#pragma once
#include <ukfs/result.hpp>
