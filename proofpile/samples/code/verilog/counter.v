// 8-bit counter with synchronous reset: Verilog, not Coq, despite the .v extension.
`timescale 1ns / 1ps
module counter (
    input  wire       clk,
    input  wire       rst,
    output reg  [7:0] q
);
    always @(posedge clk) begin
        if (rst) q <= 8'd0;
        else     q <= q + 8'd1;
    end
endmodule
