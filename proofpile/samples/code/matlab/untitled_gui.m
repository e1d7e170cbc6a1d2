function varargout = untitled_gui(varargin)
% UNTITLED_GUI MATLAB code for untitled_gui.fig
% Edit the above text to modify the response to help untitled_gui
% Last Modified by GUIDE v2.5 12-Mar-2021 10:14:03
gui_Singleton = 1;
gui_State = struct('gui_Name', mfilename, 'gui_Singleton', gui_Singleton);
