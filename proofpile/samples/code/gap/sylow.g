# Count the Sylow p-subgroups of a group and check Sylow's theorem n_p = 1 mod p.
SylowCount := function(G, p)
    local P, n;
    P := SylowSubgroup(G, p);
    n := Index(G, Normalizer(G, P));
    if n mod p <> 1 then
        Error("Sylow's theorem fails?");
    fi;
    return n;
end;

for p in [2, 3, 5] do
    Print(p, ": ", SylowCount(SymmetricGroup(5), p), "\n");
od;
