#include "jobs/job.hpp"

namespace poste::jobs {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kDone:
      return "done";
    case JobState::kDead:
      return "dead";
  }
  return "queued";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (JobState state : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kDead}) {
    if (JobStateName(state) == name) return state;
  }
  return std::nullopt;
}

}  // namespace poste::jobs
