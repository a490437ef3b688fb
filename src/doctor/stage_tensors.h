// Internal to the doctor room: stage tensors dumped by another pipeline (.npy), explained
// against the training spec — one report per stage over all images, the first divergence, and
// what they cost, measured by running the model on the other's input (or by its boxes).
#pragma once

#include "doctor/doctor_common.h"

namespace lockstep::doctor {

// Errors (lockstep::Error) for a folder that is not one, a file not named
// <image file name>.<stage>.npy, an image that is not in --images, a tensor that cannot be read.
void ExplainStageTensors(const DoctorRun& run, DoctorReport& r);

}  // namespace lockstep::doctor
