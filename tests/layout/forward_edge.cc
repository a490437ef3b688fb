// The doctor room using the pipeline, a room before it: this compiles (the control case).
#include "lockstep/doctor/doctor.h"
#include "lockstep/pipeline/spec.h"
