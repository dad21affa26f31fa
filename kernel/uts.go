package kernel

// Release and Version are what uname reports. The release is one that
// programs checking for features (LTP wants 5.16 or later) accept.
const (
	Release = "6.12.0-uk"
	Version = "#1 SMP PREEMPT_DYNAMIC uk"
)
