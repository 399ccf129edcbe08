// A program the fake compiler treats as the line below says.
// FAKE: crash
int main() { return 0; }
