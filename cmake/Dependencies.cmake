# Every third-party library Poste links, found once (see shared/TOOLCHAIN.md for how each is found).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
include(${CMAKE_CURRENT_LIST_DIR}/LazyLibrary.cmake)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

# SOCI ships neither a CMake config nor a pkg-config file on Debian 12.
find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
find_library(SOCI_CORE_LIB soci_core REQUIRED)
find_library(SOCI_SQLITE_LIB soci_sqlite3 REQUIRED)
find_library(SOCI_POSTGRES_LIB soci_postgresql REQUIRED)
add_library(poste_soci INTERFACE)
target_include_directories(poste_soci SYSTEM INTERFACE ${SOCI_INCLUDE_DIR} ${SOCI_INCLUDE_DIR}/soci
                                                       ${PostgreSQL_INCLUDE_DIRS})
# The PostgreSQL backend and libpq (with Kerberos, LDAP, GnuTLS...) are loaded only when a postgresql:// URL
# is opened: SOCI loads its backend by name (db/database.cpp), the few functions Poste calls directly go
# through lazy stand-ins (cmake/LazyLibrary.cmake).
find_library(POSTE_PQ_LIB pq HINTS ${PostgreSQL_LIBRARY_DIRS} REQUIRED)
poste_lazy_library(poste_lazy_soci_postgresql ${SOCI_POSTGRES_LIB})
poste_lazy_library(poste_lazy_pq ${POSTE_PQ_LIB})
target_link_libraries(poste_soci INTERFACE ${SOCI_SQLITE_LIB} ${SOCI_CORE_LIB} SQLite::SQLite3
                      poste_lazy_soci_postgresql poste_lazy_pq ${CMAKE_DL_LIBS})
# SOCI's shared libraries do not export the typeinfo UBSan's vptr check needs: code using SOCI would not link.
if(POSTE_SANITIZE)
  target_compile_options(poste_soci INTERFACE -fno-sanitize=vptr)
endif()

if(POSTE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(POSTE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
