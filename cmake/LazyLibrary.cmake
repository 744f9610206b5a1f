# poste_lazy_library(TARGET LIBRARY_FILE [SOURCES...]) makes the static library TARGET, which stands in for
# the shared library LIBRARY_FILE: it defines every function the library exports as a hidden trampoline, and
# the first call of any of them loads the library (by its soname, with dlopen) and binds them all
# (cmake/lazy_library.py). Link TARGET instead of the library; the code that calls it does not change.
#
# Why: idle RSS (bench/RESULTS.md, issue 2). libcurl, libpq, GMime, opendkim and GLib bring about 45
# libraries (GnuTLS, p11-kit, Kerberos, LDAP, gio, gpgme, ...) that the dynamic loader maps, relocates and
# initialises at every start, whether or not the process ever sends a mail or talks to PostgreSQL: 7.6 MB of
# a 26.5 MB idle process. Loaded on first use, a server that does neither never pays for them.
# The price: a library missing at run time stops the process at its first call (a message naming it, then
# abort) instead of at exec; scripts/install-deps installs them all.
#
# Only functions can stand in: data the code refers to (global objects, typeinfo) must come from SOURCES (a
# copy of a constant) or the library must stay linked.
# Sanitizer builds link the real library too, so it is loaded at start-up: LeakSanitizer crashes at exit
# scanning the thread-local storage of a library loaded later (glibc 2.36; GnuTLS, p11-kit and gpgme have
# some). The trampolines are still the ones called there (dlopen then finds the library already loaded),
# so the tests exercise them.
function(poste_lazy_library target library)
  if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    message(FATAL_ERROR "poste_lazy_library: the trampolines are x86-64 only (${CMAKE_SYSTEM_PROCESSOR})")
  endif()
  get_filename_component(real ${library} REALPATH)
  execute_process(COMMAND objdump -p ${real} OUTPUT_VARIABLE dynamic COMMAND_ERROR_IS_FATAL ANY)
  string(REGEX MATCH "SONAME +([^ \n]+)" _ "${dynamic}")
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "poste_lazy_library: no SONAME in ${real}")
  endif()
  set(soname ${CMAKE_MATCH_1})
  set(out ${CMAKE_BINARY_DIR}/lazy/${target}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/lazy
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/cmake/lazy_library.py ${target} ${soname} ${real} ${out}
    DEPENDS ${CMAKE_SOURCE_DIR}/cmake/lazy_library.py ${real}
    COMMENT "Lazy stand-in for ${soname}"
    VERBATIM)
  add_library(${target} STATIC ${out} ${ARGN})
  target_link_libraries(${target} PUBLIC ${CMAKE_DL_LIBS})
  if(POSTE_SANITIZE)
    # After the archive on the link line: the trampolines are pulled in first and take the calls.
    target_link_libraries(${target} INTERFACE "-Wl,--push-state,--no-as-needed" ${real} "-Wl,--pop-state")
  endif()
endfunction()
