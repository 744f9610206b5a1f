# Layers: lib <- db <- jobs/modules <- http <- app.
# poste_layer(NAME DIR DEPS...) makes the static library poste_NAME from DIR's *.cpp (tests excluded),
# and a build step that fails when a file of the layer includes a layer above it.
set(POSTE_SRC_DIR ${CMAKE_SOURCE_DIR}/src)

function(poste_layer name)
  cmake_parse_arguments(L "" "" "DEPS;FORBID" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "(_test\\.cpp|/main\\.cpp)$")
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.hpp)
  if(NOT sources)
    # A layer still being filled in; keeps the target graph whole.
    set(sources ${CMAKE_CURRENT_BINARY_DIR}/empty_${name}.cpp)
    file(WRITE ${sources} "")
  endif()
  add_library(poste_${name} STATIC ${sources})
  target_include_directories(poste_${name} PUBLIC ${POSTE_SRC_DIR})
  target_link_libraries(poste_${name} PUBLIC ${L_DEPS})
  if(L_FORBID)
    set(stamp ${CMAKE_CURRENT_BINARY_DIR}/layer_${name}.ok)
    add_custom_command(
      OUTPUT ${stamp}
      COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-layers ${name} ${CMAKE_CURRENT_SOURCE_DIR} ${L_FORBID}
      COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
      DEPENDS ${sources} ${headers} ${CMAKE_SOURCE_DIR}/scripts/check-layers
      COMMENT "Checking that layer ${name} includes no layer above it")
    add_custom_target(poste_${name}_layer_check DEPENDS ${stamp})
    add_dependencies(poste_${name} poste_${name}_layer_check)
  endif()
endfunction()

# poste_tests(NAME DEPS...) builds the *_test.cpp files of the current directory into one GoogleTest binary.
function(poste_tests name)
  if(NOT POSTE_BUILD_TESTS)
    return()
  endif()
  file(GLOB_RECURSE tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  if(NOT tests)
    return()
  endif()
  add_executable(${name}_tests ${tests})
  target_link_libraries(${name}_tests PRIVATE ${ARGN} poste_test_support GTest::gtest GTest::gmock)
  include(GoogleTest)
  gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
endfunction()
