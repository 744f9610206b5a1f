# poste_embed(TARGET NAMESPACE BASE_DIR FILES...) compiles FILES into TARGET as a table of
# {path relative to BASE_DIR, bytes}, reachable through lib/embedded.hpp's EmbeddedFile lists.
function(poste_embed target symbol base_dir)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${symbol}.cpp)
  # A ';'-separated list would be split by the shell; pass the files '|'-separated instead.
  string(REPLACE ";" "|" files_arg "${ARGN}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} -DBASE=${base_dir} "-DFILES=${files_arg}"
            -P ${CMAKE_SOURCE_DIR}/cmake/EmbedGenerate.cmake
    DEPENDS ${ARGN} ${CMAKE_SOURCE_DIR}/cmake/EmbedGenerate.cmake
    COMMENT "Embedding ${symbol}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
