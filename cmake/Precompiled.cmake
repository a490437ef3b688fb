# Precompiled headers: nlohmann/json (and GoogleTest in the tests) cost about 3 s of parsing in
# every translation unit that includes them, which is most of them; precompiled once per target
# they halve a clean build. -DLOCKSTEP_PCH=OFF builds without them.
option(LOCKSTEP_PCH "Precompile the JSON (and test) headers most files include" ON)

function(lockstep_precompile target)
  if(LOCKSTEP_PCH)
    target_precompile_headers(${target} PRIVATE <nlohmann/json.hpp> ${ARGN})
  endif()
endfunction()
