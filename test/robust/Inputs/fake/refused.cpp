// A program the fake compiler treats as the line below says.
// FAKE: refused
int main() { return 0; }
