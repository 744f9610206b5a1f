// The one translation unit that compiles Asio and Beast (BOOST_*_SEPARATE_COMPILATION is set for every
// target linking poste_lib), so no other file pays for their implementation.
#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange

#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
