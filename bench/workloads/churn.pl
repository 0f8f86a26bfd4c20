# SPDX-License-Identifier: MIT
# perl hash/array/string churn. Usage: perl churn.pl ROUNDS
use strict; use warnings;
my $rounds = shift // 30;
my @keep; my $total = 0;
for my $r (1 .. $rounds) {
    my %h;
    for my $i (1 .. 20000) {
        $h{"key${r}_$i"} = [ $i, "x" x ($i % 50 + 1), { a => $i } ];
    }
    my @s = sort { length($h{$a}[1]) <=> length($h{$b}[1]) } keys %h;
    $total += scalar @s;
    push @keep, [ @s[0 .. 19] ];
    shift @keep if @keep > 8;
    my $str = join(",", map { $_ * 3 } 1 .. 20000);
    $total += length $str;
}
print "$total\n";
