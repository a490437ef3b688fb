# Builds the control case (must compile) and the back edge (must fail, for the missing header
# and nothing else). Run by ctest with -DBUILD_DIR=... -DCONFIG=...
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target layout_forward_edge
                RESULT_VARIABLE forward OUTPUT_VARIABLE forward_out ERROR_VARIABLE forward_out)
if(NOT forward EQUAL 0)
  message(FATAL_ERROR "the forward edge (doctor -> pipeline) did not compile:\n${forward_out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target layout_back_edge
                RESULT_VARIABLE back OUTPUT_VARIABLE back_out ERROR_VARIABLE back_out)
if(back EQUAL 0)
  message(FATAL_ERROR "the back edge (pipeline -> doctor) compiled: the room order is not enforced")
endif()
# GCC: "doctor.h: No such file or directory"; clang: "'lockstep/doctor/doctor.h' file not found".
if(NOT back_out MATCHES "lockstep/doctor/doctor.h(: No such file or directory|' file not found)")
  message(FATAL_ERROR "the back edge failed for another reason than the unseen header:\n${back_out}")
endif()
message(STATUS "room order holds: pipeline cannot see lockstep/doctor/doctor.h")
