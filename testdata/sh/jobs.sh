# Background jobs, wait, trap and kill.
sleep 0.2 & p1=$!
(sleep 0.1; exit 5) & p2=$!
wait $p2; echo "job 2 status: $?"
wait $p1; echo "job 1 status: $?"
trap 'echo got USR1' USR1
kill -USR1 $$
echo after trap
sh -c 'kill -TERM $$' ; echo "killed child status: $?"
sleep 5 & victim=$!
kill $victim; wait $victim; echo "victim status: $?"
trap 'echo exiting' EXIT
sh -c 'trap "echo sub TERM; exit 9" TERM; kill -TERM $$; sleep 1' ; echo "sub status: $?"
exit 4
