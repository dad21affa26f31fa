package kernel

import "golang.org/x/sys/unix"

// adjtimex(2)'s clock discipline, kept for the sandbox as Linux's
// kernel/time/ntp.c keeps it for the machine: the values an NTP daemon
// sets and reads back, and the clock state adjtimex returns. uk does not
// steer its clock by them (no frequency correction, no slewing of an
// adjtime(3) offset: the host's clock, which uk's follows, has its own);
// ADJ_SETOFFSET does move the sandbox's wall clock.

// Timex is struct timex as adjtimex reads and writes it (the PPS fields
// read as 0).
type Timex struct {
	Modes                            uint32
	Offset, Freq, Maxerror, Esterror int64
	Status                           int32
	Constant, Precision, Tolerance   int64
	Sec, Usec                        int64 // time: a timeval, or a timespec with ADJ_NANO/STA_NANO
	Tick                             int64
	TAI                              int32
}

// Mode bits and status flags (include/uapi/linux/timex.h).
const (
	AdjOffset         = 0x0001
	AdjFrequency      = 0x0002
	AdjMaxerror       = 0x0004
	AdjEsterror       = 0x0008
	AdjStatus         = 0x0010
	AdjTimeconst      = 0x0020
	AdjTAI            = 0x0080
	AdjSetoffset      = 0x0100
	AdjMicro          = 0x1000
	AdjNano           = 0x2000
	AdjTick           = 0x4000
	adjAdjtime        = 0x8000
	adjOffsetReadonly = 0x2000

	staPLL       = 0x0001
	staPPSFreq   = 0x0002
	staPPSTime   = 0x0004
	staUnsync    = 0x0040
	staPPSSignal = 0x0100
	staPPSJitter = 0x0200
	staPPSWander = 0x0400
	staClockErr  = 0x1000
	staNano      = 0x2000
	staReadOnly  = 0xff00

	timeOK    = 0
	timeError = 5

	ntpPhaseLimit = 16000000 // us: maxerror's and esterror's ceiling
	maxTimeConst  = 10
	maxTAIOffset  = 100000
	// maxFreq is 500 ppm in adjtimex's 16.16 ppm (MAXFREQ_SCALED /
	// PPM_SCALE): the frequency's bound and the reported tolerance.
	maxFreq = 500 << 16
	// userHZ is USER_HZ: ADJ_TICK's bounds are 900000/USER_HZ and
	// 1100000/USER_HZ us.
	userHZ = 100
)

// NTPState is the sandbox's clock discipline (Linux's ntp_data).
type NTPState struct {
	set                        bool // Linux's initial values are in place
	offset, freq               int64
	maxerror, esterror         int64
	status                     int32
	constant, tick, adjtimeRem int64
	tai                        int32
}

func (n *NTPState) init() {
	if !n.set {
		*n = NTPState{set: true, status: staUnsync, maxerror: ntpPhaseLimit, esterror: ntpPhaseLimit,
			constant: 2, tick: 1000000 / userHZ}
	}
}

// CheckTimex validates a request as Linux's timekeeping_validate_timex:
// EINVAL for a tick more than 10% off, a bad offset to inject or a frequency that would
// overflow; EPERM for a change by an unprivileged caller.
func CheckTimex(tx *Timex, privileged bool) error {
	if tx.Modes&adjAdjtime != 0 {
		// Linux's "singleshot must not be used with any other mode
		// bits" tests the kernel's own ADJ_OFFSET_SINGLESHOT bit (0x1,
		// ADJ_OFFSET's): ADJ_ADJTIME (0x8000) alone is EINVAL; the
		// user-space singleshot values (0x8001, 0xa001) carry it.
		if tx.Modes&0x1 == 0 {
			return unix.EINVAL
		}
		if tx.Modes&adjOffsetReadonly == 0 && !privileged {
			return unix.EPERM
		}
	} else {
		if tx.Modes != 0 && !privileged {
			return unix.EPERM
		}
		if tx.Modes&AdjTick != 0 && (tx.Tick < 900000/userHZ || tx.Tick > 1100000/userHZ) {
			return unix.EINVAL
		}
	}
	if tx.Modes&AdjSetoffset != 0 {
		if !privileged {
			return unix.EPERM
		}
		if tx.Usec < 0 || (tx.Modes&AdjNano != 0 && tx.Usec >= 1e9) || (tx.Modes&AdjNano == 0 && tx.Usec >= 1e6) {
			return unix.EINVAL
		}
	}
	// PPM_SCALE is 1000 << 16: freq times it must fit in 64 bits.
	const ppmScale = 1000 << 16
	if tx.Modes&AdjFrequency != 0 && (tx.Freq < (-1<<63)/ppmScale || tx.Freq > (1<<63-1)/ppmScale) {
		return unix.EINVAL
	}
	return nil
}

// Adjtimex applies a checked request (CheckTimex) to the sandbox's clock
// discipline, fills tx with the state after it, and returns the clock
// state (TIME_OK, or TIME_ERROR while unsynchronized), as Linux's
// do_adjtimex.
func (k *Kernel) Adjtimex(tx *Timex) (int, error) {
	if tx.Modes&AdjSetoffset != 0 {
		delta := tx.Sec * 1e9
		if tx.Modes&AdjNano != 0 {
			delta += tx.Usec
		} else {
			delta += tx.Usec * 1e3
		}
		if err := k.ShiftRealtime(delta); err != nil {
			return 0, err
		}
	}
	k.wall.mu.Lock()
	defer k.wall.mu.Unlock()
	n := &k.wall.ntp
	n.init()
	m := tx.Modes
	if m&adjAdjtime != 0 {
		// adjtime(3): the offset left to slew comes back; a new one
		// replaces it unless only read.
		old := n.adjtimeRem
		if m&adjOffsetReadonly == 0 {
			n.adjtimeRem = tx.Offset
		}
		tx.Offset = old
	} else if m != 0 {
		if m&AdjStatus != 0 {
			if n.status&staPLL != 0 && tx.Status&staPLL == 0 {
				n.status = staUnsync
			}
			n.status = n.status&staReadOnly | tx.Status&^staReadOnly
		}
		if m&AdjNano != 0 {
			n.status |= staNano
		}
		if m&AdjMicro != 0 {
			n.status &^= staNano
		}
		if m&AdjFrequency != 0 {
			n.freq = min(max(tx.Freq, -maxFreq), maxFreq)
		}
		if m&AdjMaxerror != 0 {
			n.maxerror = min(max(tx.Maxerror, 0), ntpPhaseLimit)
		}
		if m&AdjEsterror != 0 {
			n.esterror = min(max(tx.Esterror, 0), ntpPhaseLimit)
		}
		if m&AdjTimeconst != 0 {
			c := tx.Constant
			if n.status&staNano == 0 {
				c += 4
			}
			n.constant = min(max(c, 0), maxTimeConst)
		}
		if m&AdjTAI != 0 && tx.Constant >= 0 && tx.Constant <= maxTAIOffset {
			n.tai = int32(tx.Constant)
		}
		if m&AdjOffset != 0 && n.status&staPLL != 0 {
			n.offset = tx.Offset // not steered by: kept to be read back
		}
		if m&AdjTick != 0 {
			n.tick = tx.Tick
		}
	}
	if m&adjAdjtime == 0 {
		tx.Offset = n.offset
	}
	tx.Freq, tx.Maxerror, tx.Esterror = n.freq, n.maxerror, n.esterror
	tx.Status, tx.Constant, tx.Tick, tx.TAI = n.status, n.constant, n.tick, n.tai
	tx.Precision, tx.Tolerance = 1, maxFreq
	now, _ := k.ClockNow(unix.CLOCK_REALTIME, nil)
	tx.Sec = now / 1e9
	if n.status&staNano != 0 {
		tx.Usec = now % 1e9
	} else {
		tx.Usec = now % 1e9 / 1e3
	}
	if ntpErrorStatus(n.status) {
		return timeError, nil
	}
	return timeOK, nil
}

// ntpErrorStatus is Linux's is_error_status: the clock is not to be
// trusted.
func ntpErrorStatus(s int32) bool {
	return s&(staUnsync|staClockErr) != 0 ||
		s&(staPPSFreq|staPPSTime) != 0 && s&staPPSSignal == 0 ||
		s&(staPPSTime|staPPSJitter) == staPPSTime|staPPSJitter ||
		s&staPPSFreq != 0 && s&(staPPSWander|staClockErr) != 0
}
