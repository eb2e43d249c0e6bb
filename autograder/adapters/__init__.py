"""Where Attune meets nbgrader: the course configuration (config), every read and write of the gradebook
(gradebook), Attune's nbgrader steps (preprocessors), the functions test cells call (cells) and the checked
collector (exchange). Uses core and static below it, never the layers above."""
