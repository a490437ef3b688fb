# The TensorFlow Lite C library as an imported target, tflite::c.
# Default: the 2.9.0 library that scripts/setup.sh unpacks; -DLOCKSTEP_TFLITE_DIR=... for another
# (for example one built for a board).
find_path(TFLITE_INCLUDE_DIR tensorflow/lite/c/c_api.h PATHS "${LOCKSTEP_TFLITE_DIR}/include"
          NO_DEFAULT_PATH)
find_library(TFLITE_LIBRARY tensorflowlite_c PATHS "${LOCKSTEP_TFLITE_DIR}/lib" "${LOCKSTEP_TFLITE_DIR}"
             NO_DEFAULT_PATH)
if(NOT TFLITE_INCLUDE_DIR OR NOT TFLITE_LIBRARY)
  message(FATAL_ERROR "TensorFlow Lite C library not found in ${LOCKSTEP_TFLITE_DIR}: "
                      "run scripts/setup.sh, or pass -DLOCKSTEP_TFLITE_DIR=<folder with include/ and lib/>")
endif()
add_library(tflite::c SHARED IMPORTED GLOBAL)
set_target_properties(tflite::c PROPERTIES IMPORTED_LOCATION "${TFLITE_LIBRARY}"
                                           INTERFACE_INCLUDE_DIRECTORIES "${TFLITE_INCLUDE_DIR}")
get_filename_component(TFLITE_LIBRARY_DIR "${TFLITE_LIBRARY}" DIRECTORY)
list(APPEND CMAKE_BUILD_RPATH "${TFLITE_LIBRARY_DIR}")
message(STATUS "TensorFlow Lite C library: ${TFLITE_LIBRARY}")
