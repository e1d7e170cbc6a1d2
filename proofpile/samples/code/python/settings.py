{"name": "demo", "version": "1.0", "entry": "main.py", "math": "import numpy"}
