# Pipelines, command substitution, subshells and exit statuses.
echo one two three | tr ' ' '\n' | sort -r | head -n 2
x=$(echo inner; echo second)
echo "subst: $x"
y=$( (echo a; echo b) | wc -l )
echo "lines: $y"
(exit 3); echo "subshell status: $?"
false | true; echo "pipeline status: $?"
true | false; echo "last status: $?"
seq 1 200 | awk '{s+=$1} END {print "sum", s}'
printf 'b\na\nc\n' | sort | uniq -c | sed 's/^ *//'
echo $(( 6 * 7 ))
for i in 1 2 3; do echo "loop $i"; done | tail -n 1
if grep -q needle <<EOT
hay needle hay
EOT
then echo found; fi
