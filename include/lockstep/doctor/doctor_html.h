// The doctor's report as one self-contained HTML file (images embedded as data: URIs, charts as
// inline SVG): for each sample image the two model inputs side by side with a difference heatmap
// and both pipelines' detections on the original; the findings table; the COCO table; the
// attribution chart.
#pragma once

#include <filesystem>
#include <string>

#include "lockstep/doctor/doctor.h"

namespace lockstep {

std::string DoctorHtml(const DoctorReport& report);

// Written to a temporary name beside `path`, then renamed.
void WriteDoctorHtml(const std::filesystem::path& path, const DoctorReport& report);

}  // namespace lockstep
