// A program the fake compiler treats as the line below says.
// FAKE: built
int main() { return 0; }
