# uinit script of the boot acceptance test (boot_test.go, TestBootUinit).
# u-root's init runs it as `gosh /etc/uinit.sh` (the image is built with
# -uinitcmd="gosh /etc/uinit.sh"). Each step prints a marker the test looks
# for; the last one powers off, which must end uk with status 0.
echo "UINIT: start"
echo "UINIT: ls /proc/self/"
ls /proc/self/
echo "UINIT: cat /proc/cmdline"
cat /proc/cmdline
echo "UINIT: tmp"
echo hi > /tmp/f && cat /tmp/f
echo "UINIT: uname -a"
uname -a
echo "UINIT: powering off"
shutdown halt
# Reached only if shutdown returned instead of powering off.
echo "UINIT: FAIL shutdown halt returned"
