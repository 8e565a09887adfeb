#!/bin/sh
# Prints the number of words in the file given as the first argument.
wc -w < "$1" | tr -d ' '
