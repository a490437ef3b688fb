# flatc-generated C++ headers (and the binary schema, for reflection over option tables) from the
# schemas lockstep writes itself in src/model/schema.
find_program(FLATC flatc REQUIRED)

# lockstep_flatbuffers(<target> <schema.fbs>...): a header-only target with <name>_generated.h and,
# for each schema, <name>.bfbs embedded as lockstep::schema::<name>_bfbs().
function(lockstep_flatbuffers target)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/generated")
  set(headers)
  set(sources)
  foreach(fbs ${ARGN})
    get_filename_component(abs "${fbs}" ABSOLUTE)
    get_filename_component(name "${fbs}" NAME_WE)
    add_custom_command(
      OUTPUT "${out}/${name}_generated.h" "${out}/${name}.bfbs"
      COMMAND "${FLATC}" --cpp --scoped-enums -o "${out}" "${abs}"
      COMMAND "${FLATC}" --binary --schema --bfbs-builtins -o "${out}" "${abs}"
      DEPENDS "${abs}"
      COMMENT "flatc ${name}.fbs")
    set(embed "${out}/${name}_bfbs.cc")
    add_custom_command(
      OUTPUT "${embed}"
      COMMAND "${CMAKE_COMMAND}" -DIN="${out}/${name}.bfbs" -DOUT="${embed}" -DNAME="${name}"
              -P "${PROJECT_SOURCE_DIR}/cmake/Embed.cmake"
      DEPENDS "${out}/${name}.bfbs" "${PROJECT_SOURCE_DIR}/cmake/Embed.cmake")
    list(APPEND headers "${out}/${name}_generated.h")
    list(APPEND sources "${embed}")
  endforeach()
  add_library(${target} STATIC ${sources} ${headers})
  target_include_directories(${target} PUBLIC "${out}")
endfunction()
