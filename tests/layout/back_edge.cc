// The pipeline room reaching into the doctor, a room after it: this must not compile.
#include "lockstep/doctor/doctor.h"
#include "lockstep/pipeline/spec.h"
