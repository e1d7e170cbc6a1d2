#!/usr/bin/perl
use strict;
use warnings;
my $dir = shift // '.';
opendir(my $dh, $dir) or die "cannot open $dir: $!";
for my $f (readdir $dh) { print "$f\n" if $f =~ /\.txt$/; }
