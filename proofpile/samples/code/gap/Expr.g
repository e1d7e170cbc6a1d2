// An ANTLR grammar for arithmetic expressions: .g, but not GAP.
grammar Expr;

prog : expr EOF ;
expr : expr ('*' | '/') expr
     | expr ('+' | '-') expr
     | INT
     | '(' expr ')'
     ;
INT  : [0-9]+ ;
WS   : [ \t\r\n]+ -> skip ;
