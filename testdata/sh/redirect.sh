# Redirections, here-documents and files in /tmp.
d=/tmp/uk-sh-test.$$
mkdir -p $d && cd $d
echo hello > f1
echo world >> f1
cat f1 | wc -l
cat < f1 > f2 2>&1
cmp f1 f2 && echo same
ls -1 | sort
exec 3> f3; echo via3 >&3; exec 3>&-; cat f3
cat <<EOT | tr a-z A-Z
here doc line
EOT
rm -r $d; test -e $d || echo removed
