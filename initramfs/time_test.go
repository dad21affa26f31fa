package initramfs

import "time"

func time0(sec int64) time.Time { return time.Unix(sec, 0) }
