// A program the fake compiler treats as the line below says.
// FAKE: twice-defined
int main() { return 0; }
